#include "serving/console.h"

namespace braid::serving {

namespace {

// One self-contained page (no external scripts or styles): the views with
// their coverage, a query form (value and series), the batch scheduler, and
// the last answer as JSON. Everything it shows comes from the public API.
constexpr const char* kConsole = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>braid console</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:70em}
h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1.05em;margin:1.4em 0 .4em}
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
code,pre{font:12px/1.3 ui-monospace,monospace}pre{background:#f6f6f6;padding:.6em;overflow:auto;max-height:22em}
input,select,button{font:inherit;margin:.15em}.muted{color:#777}svg{background:#fafafa;border:1px solid #eee}
</style></head><body>
<h1>braid</h1><div class="muted">Lambda Architecture in one process: answers = live batch version &oplus; realtime generations after its cut.</div>
<h2>Views</h2><table id="views"><tr><th>view</th><th>topic</th><th>monoid</th><th>granularities</th><th>batch version / cut</th><th>realtime offsets</th></tr></table>
<h2>Query</h2>
<form id="q">view <select id="view"></select> key <input id="key" size="40" placeholder="http://foo.com/a">
from <input id="from" size="22" placeholder="2024-01-01 or epoch ms"> to <input id="to" size="22">
<select id="gran"><option value="">value</option><option>hour</option><option>day</option><option>week</option><option>month</option></select>
<button>ask</button> <button type="button" id="keys">keys</button></form>
<div id="chart"></div>
<h2>Batch</h2><button id="run">run batch now (wait)</button> <span id="sched" class="muted"></span>
<h2>Answer</h2><pre id="out">-</pre>
<script>
const $=id=>document.getElementById(id), esc=s=>String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const cut=c=>c?Object.entries(c).map(([p,o])=>p+':'+o).join(' '):'';
async function get(u,opt){const r=await fetch(u,opt);const t=await r.text();$('out').textContent=r.status+' '+u+'\n'+t;try{return JSON.parse(t)}catch(e){return null}}
async function views(){const r=await fetch('/v1/views');const j=await r.json();const t=$('views');
 while(t.rows.length>1)t.deleteRow(1);const sel=$('view'),cur=sel.value;sel.innerHTML='';
 for(const v of j.views){const c=v.coverage||{};const b=c.batch?('v'+c.batch.version+' @ '+cut(c.batch.cut)):'none yet';
  const row=t.insertRow();for(const x of [v.name,v.topic,v.monoid,v.granularities.join(', '),b,cut(c.realtime&&c.realtime.offsets)])row.insertCell().textContent=x;
  const o=document.createElement('option');o.textContent=v.name;sel.appendChild(o)}
 if(cur)sel.value=cur;
 const s=await (await fetch('/v1/batch/schedule')).json().catch(()=>null);
 if(s)$('sched').textContent='runs: '+s.runs+(s.last?' · last took '+s.last.seconds.toFixed(2)+' s':'')+(s.next_run_ms?' · next at '+new Date(s.next_run_ms).toISOString():'');}
function chart(b){if(!b||!b.length){$('chart').innerHTML='';return}const W=900,H=160,vals=b.map(x=>typeof x.value==='number'?x.value:0),m=Math.max(1,...vals),w=W/vals.length;
 $('chart').innerHTML='<svg width="'+W+'" height="'+(H+4)+'">'+vals.map((v,i)=>'<rect x="'+(i*w)+'" y="'+(H-v/m*H+2)+'" width="'+Math.max(1,w-1)+'" height="'+(v/m*H)+'" fill="#4a7"><title>'+esc(new Date(b[i].start).toISOString()+': '+v)+'</title></rect>').join('')+'</svg>';}
$('q').onsubmit=async e=>{e.preventDefault();const v=encodeURIComponent($('view').value),k=encodeURIComponent($('key').value),f=$('from').value,t=$('to').value,g=$('gran').value;
 let u='/v1/views/'+v+'/'+(g?'series':'value')+'?key='+k;if(f||t)u+='&from='+encodeURIComponent(f)+'&to='+encodeURIComponent(t);if(g)u+='&granularity='+g;
 const j=await get(u);chart(j&&j.buckets);};
$('keys').onclick=async()=>{chart(null);await get('/v1/views/'+encodeURIComponent($('view').value)+'/keys?limit=50&prefix='+encodeURIComponent($('key').value))};
$('run').onclick=async()=>{$('run').disabled=true;await get('/v1/batch/run?wait=true',{method:'POST'});$('run').disabled=false;views()};
views();setInterval(views,5000);
</script></body></html>
)HTML";

}  // namespace

std::string_view ConsolePage() { return kConsole; }

}  // namespace braid::serving

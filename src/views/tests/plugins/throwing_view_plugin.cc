// A plugin view whose Map throws, fails and emits values of the wrong kind:
// each fails only that event.
#include <memory>
#include <stdexcept>
#include <string>

#include "braid/plugin.h"

namespace {
class Throwing final : public braid::View {
 public:
  braid::ViewSpec Spec() const override {
    braid::ViewSpec s;
    s.name = "throwing";
    s.topic = "t";
    s.granularities = {"all"};
    s.monoid = "sum_int64";
    s.needs_avro = false;
    return s;
  }
  void Map(const braid::ViewEvent& e, braid::ViewEmitter& out) const override {
    const std::string key(e.key().value_or(""));
    out.Emit(key, 0, braid::Value::Long(1));
    if (key == "throw") throw std::runtime_error("boom");
    if (key == "fail") out.Fail("bad event");
    if (key == "kind") out.Emit(key, 0, braid::Value::String("x"));
    // Reading beyond the declared paths is absent, not a crash.
    if (e.GetString(5).has_value()) out.Fail("field 5 exists?");
  }
};
}  // namespace

BRAID_PLUGIN(registrar) { registrar->AddView(std::make_shared<Throwing>()); }

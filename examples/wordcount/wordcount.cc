// The classic word count as a raw MapReduce job in a braid plugin
// (include/braid/mapreduce.h, include/braid/plugin.h): standard C++ only,
// no braid library to link.
//
//   g++ -std=c++20 -O2 -fPIC -shared -I<braid>/include wordcount.cc -o libwordcount.so
//   braid mr run --plugin ./libwordcount.so --job wordcount --text book.txt --output-text out/
//   braid mr map --plugin ./libwordcount.so --job wordcount < book.txt | LC_ALL=C sort |
//       braid mr reduce --plugin ./libwordcount.so --job wordcount
//
// Words are maximal runs of letters and digits (ASCII; other bytes, UTF-8
// included, separate words), lower-cased. The count is decimal text. The
// combiner is the reducer (sums are associative). Counters: "lines",
// "words".
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "braid/mapreduce.h"
#include "braid/plugin.h"

namespace {

bool IsWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

class WordMapper final : public braid::mr::Mapper {
 public:
  void Map(const braid::mr::Record& record, braid::mr::Context& ctx) override {
    const std::string_view line = record.data();
    ctx.Count("lines");
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && !IsWordByte(line[i])) ++i;
      size_t j = i;
      word_.clear();
      while (j < line.size() && IsWordByte(line[j])) {
        const char c = line[j++];
        word_.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      }
      if (!word_.empty()) {
        ctx.Emit(word_, "1");
        ctx.Count("words");
      }
      i = j;
    }
  }

 private:
  std::string word_;
};

class SumReducer final : public braid::mr::Reducer {
 public:
  void Reduce(std::string_view key, braid::mr::Values& values, braid::mr::Context& ctx) override {
    uint64_t sum = 0;
    std::string_view v;
    while (values.Next(&v)) {
      uint64_t n = 0;
      if (v.empty()) return ctx.Fail("empty count for \"" + std::string(key) + "\"");
      for (char c : v) {
        if (c < '0' || c > '9') return ctx.Fail("not a count: \"" + std::string(v) + "\"");
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      sum += n;
    }
    ctx.Emit(key, std::to_string(sum));
  }
};

class WordCount final : public braid::mr::Job {
 public:
  std::string name() const override { return "wordcount"; }
  std::string description() const override {
    return "counts the words of text lines (letters and digits, lower-cased)";
  }
  std::unique_ptr<braid::mr::Mapper> NewMapper() const override {
    return std::make_unique<WordMapper>();
  }
  std::unique_ptr<braid::mr::Reducer> NewCombiner() const override {
    return std::make_unique<SumReducer>();
  }
  std::unique_ptr<braid::mr::Reducer> NewReducer() const override {
    return std::make_unique<SumReducer>();
  }
};

}  // namespace

BRAID_PLUGIN(registrar) { registrar->AddJob(std::make_shared<WordCount>()); }

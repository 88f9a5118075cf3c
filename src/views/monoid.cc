#include "views/monoid.h"

#include "base/coding.h"

namespace braid::views {

namespace {
constexpr char kCountVersion = 1;
}  // namespace

Status Monoid::MergeMany(std::string* acc, std::span<const std::string_view> others) const {
  for (std::string_view o : others) RETURN_IF_ERROR(Merge(acc, o));
  return Status::OK();
}

const std::string& CountMonoid::spec() const {
  static const std::string kSpec = "count";
  return kSpec;
}

std::string CountMonoid::Encode(uint64_t n) {
  std::string out(1, kCountVersion);
  coding::PutVarint64(&out, n);
  return out;
}

const std::string& CountMonoid::One() {
  static const std::string kOne = Encode(1);
  return kOne;
}

Result<uint64_t> CountMonoid::Decode(std::string_view e) {
  if (e.empty() || e[0] != kCountVersion) {
    return Status::Corruption("count: unknown encoding version");
  }
  uint64_t n = 0;
  const char* end = e.data() + e.size();
  const char* p = coding::GetVarint64(e.data() + 1, end, &n);
  if (p == nullptr || p != end) return Status::Corruption("count: malformed varint");
  return n;
}

Status CountMonoid::Merge(std::string* acc, std::string_view other) const {
  ASSIGN_OR_RETURN(uint64_t a, Decode(*acc));
  ASSIGN_OR_RETURN(uint64_t b, Decode(other));
  *acc = Encode(a + b);
  return Status::OK();
}

Result<std::string> CountMonoid::ToJson(std::string_view encoded) const {
  ASSIGN_OR_RETURN(uint64_t n, Decode(encoded));
  return std::to_string(n);
}

}  // namespace braid::views

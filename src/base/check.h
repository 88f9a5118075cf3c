// CHECK / DCHECK: invariants that must hold. A failed CHECK logs the condition
// and location and aborts. CHECK is for on-disk and cross-module invariants in
// all builds; DCHECK compiles away in release builds. Never use either for
// input from clients or files: that is a Status.
#pragma once

#include <sstream>
#include <string>

namespace braid::internal {

[[noreturn]] void CheckFailed(const char* file, int line, const char* cond, const std::string& msg);

// Collects an optional streamed message, then aborts in its destructor.
class CheckFailStream {
 public:
  CheckFailStream(const char* file, int line, const char* cond)
      : file_(file), line_(line), cond_(cond) {}
  [[noreturn]] ~CheckFailStream() { CheckFailed(file_, line_, cond_, os_.str()); }
  template <typename T>
  CheckFailStream& operator<<(const T& v) {
    os_ << v;
    return *this;
  }

 private:
  const char* file_;
  int line_;
  const char* cond_;
  std::ostringstream os_;
};

struct Voidify {
  void operator&(const CheckFailStream&) {}
};

}  // namespace braid::internal

#define CHECK(cond)                       \
  (cond) ? (void)0                        \
         : ::braid::internal::Voidify() & \
               ::braid::internal::CheckFailStream(__FILE__, __LINE__, #cond)
#define CHECK_EQ(a, b) CHECK((a) == (b))
#define CHECK_NE(a, b) CHECK((a) != (b))
#define CHECK_LT(a, b) CHECK((a) < (b))
#define CHECK_LE(a, b) CHECK((a) <= (b))
#define CHECK_GT(a, b) CHECK((a) > (b))
#define CHECK_GE(a, b) CHECK((a) >= (b))
#define CHECK_OK(expr)                               \
  do {                                               \
    auto _braid_chk = (expr);                        \
    CHECK(_braid_chk.ok()) << _braid_chk.ToString(); \
  } while (0)

#ifdef NDEBUG
#define DCHECK(cond) \
  while (false) CHECK(cond)
#else
#define DCHECK(cond) CHECK(cond)
#endif
#define DCHECK_EQ(a, b) DCHECK((a) == (b))
#define DCHECK_LE(a, b) DCHECK((a) <= (b))
#define DCHECK_LT(a, b) DCHECK((a) < (b))

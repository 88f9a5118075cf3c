// A plugin whose view has a bad spec (an unknown monoid) and one that throws
// while registering (selected by the BRAID_TEST_THROW environment
// variable): braid must refuse both with the view's name or the message.
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "braid/plugin.h"

namespace {
class Bad final : public braid::View {
 public:
  braid::ViewSpec Spec() const override {
    braid::ViewSpec s;
    s.name = "bad_view";
    s.topic = "t";
    s.granularities = {"day"};
    s.monoid = "hyperloglog(p=99)";
    return s;
  }
  void Map(const braid::ViewEvent&, braid::ViewEmitter&) const override {}
};
}  // namespace

BRAID_PLUGIN(registrar) {
  if (std::getenv("BRAID_TEST_THROW") != nullptr) throw std::runtime_error("no configuration");
  registrar->AddView(std::make_shared<Bad>());
}

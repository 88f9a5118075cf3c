// Anchor so that braid_avro always has a translation unit.
namespace braid::avro {}

// Replaced by the gateway implementation.
namespace rrkit::gateway { int placeholder() { return 0; } }

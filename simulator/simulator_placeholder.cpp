// Replaced by the simulator implementation.
namespace rrkit::simulator { int placeholder() { return 0; } }

// A shared library that is not a braid plugin (no entry points).
extern "C" int some_function(void) { return 7; }

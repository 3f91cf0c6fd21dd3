/* A shared object the unwinder's tests dlopen after making an Unwinder of their own
 * process: its function must be found (the modules are re-reported when an address falls
 * outside every known one). */
__attribute__((noinline)) int profile_plugin_function(int x) { return x * 3 + 1; }

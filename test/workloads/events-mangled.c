/*
 * A function with a C++ mangled name, built by a C compiler (no g++ needed): the asm label
 * gives it the symbol g++ would for `int pbns::work(int)`. For `list symbols` demangling tests.
 */
__attribute__((noinline)) int pbns_work(int x) __asm__("_ZN4pbns4workEi");
__attribute__((noinline)) int pbns_work(int x) { return x * 2 + 1; }
int main(void) { return pbns_work(1) == 3 ? 0 : 1; }

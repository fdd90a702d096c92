// A C++ function with a mangled name, for `list symbols` demangling tests.
namespace pbns {
__attribute__((noinline)) int work(int x) { return x * 2 + 1; }
}
int main() { return pbns::work(1) == 3 ? 0 : 1; }

// The leadbench command line.
#include <cstdio>
int main() {
  std::fprintf(stderr, "leadbench: the command line is not built yet\n");
  return 1;
}

// Exits with the code given as argv[1] (default 0); prints its arguments, so
// a tracer that passes the program extra arguments shows up as a difference.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  int code = argc > 1 ? atoi(argv[1]) : 0;
  printf("argc=%d", argc);
  for (int i = 1; i < argc; i++) printf(" [%s]", argv[i]);
  printf("\nexiting with %d\n", code);
  return code;
}

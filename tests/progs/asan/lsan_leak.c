// A leak that LeakSanitizer reports at exit. LSan stops the program's
// threads with ptrace from a thread made with CLONE_UNTRACED: under a tracer
// that left that thread untraced it hung, spinning; under hytrace it runs,
// and (until hytrace emulates ptrace for the program) LSan says it cannot
// work under ptrace and exits 1, as under strace.
#include <stdio.h>
#include <stdlib.h>

void* volatile kept;

int main(void) {
  kept = malloc(100);
  kept = NULL;  // the only pointer is gone: a leak
  printf("leaking 100 bytes\n");
  return 0;
}

// A leak that LeakSanitizer reports at exit. LSan stops the program's
// threads with ptrace from a thread made with CLONE_UNTRACED: under a tracer
// that left that thread untraced it hung, spinning; under strace LSan says
// it cannot work under ptrace. Under hytrace the thread is traced and its
// ptrace is served by hytrace: the report is the native one.
#include <stdio.h>
#include <stdlib.h>

void* volatile kept;

int main(void) {
  kept = malloc(100);
  kept = NULL;  // the only pointer is gone: a leak
  printf("leaking 100 bytes\n");
  return 0;
}

/* Fixed process workload: N x fork + exec("/bin/true") + wait. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rusage.h"

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 3000;
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) { execl("/bin/true", "true", (char *)0); _exit(127); }
    int status;
    if (waitpid(pid, &status, 0) < 0) { perror("waitpid"); return 1; }
  }
  report_cpu();
  return 0;
}

/*
 * kill_victim: the process the enforcement latency benchmark (test/bench/enforce-latency.js) has
 * killed, N times. Each child writes CLOCK_BOOTTIME (the probe's clock) into shared memory right
 * before it opens the watched path, then waits to be killed; the parent reaps it and takes the
 * time again: death minus syscall, as seen from outside (waitpid's wakeup included). A child that
 * is not killed within 5 s exits 1 and counts as an escape. Prints one latency in microseconds
 * per line, or "escaped".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t boottime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) return fprintf(stderr, "usage: kill_victim PATH COUNT\n"), 2;
  int count = atoi(argv[2]);
  volatile uint64_t *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return perror("mmap"), 1;
  for (int i = 0; i < count; i++) {
    pid_t child = fork();
    if (child == 0) {
      *shared = boottime_ns();
      int fd = open(argv[1], O_RDONLY);
      (void)fd;
      struct timespec five = {5, 0};
      nanosleep(&five, NULL);
      _exit(1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    uint64_t dead = boottime_ns();
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) printf("%llu\n", (unsigned long long)((dead - *shared) / 1000));
    else printf("escaped\n");
    usleep(20000); /* the agent's token bucket: stay far below the configured rate */
  }
  return 0;
}

/* Prints the workload's own CPU time (user+sys of itself and its reaped children) on stderr as
 * `cpu_ns=<n>`, so the benchmark measures cost, not wall time, on a noisy shared machine; and the
 * monotonic clock for the `wall_s=` line. */
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report_cpu(void) {
  struct rusage self, kids;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  long long ns = 0;
  struct rusage *r[2] = {&self, &kids};
  for (int i = 0; i < 2; i++) {
    ns += (long long)r[i]->ru_utime.tv_sec * 1000000000LL + (long long)r[i]->ru_utime.tv_usec * 1000LL;
    ns += (long long)r[i]->ru_stime.tv_sec * 1000000000LL + (long long)r[i]->ru_stime.tv_usec * 1000LL;
  }
  fprintf(stderr, "cpu_ns=%lld\n", ns);
}

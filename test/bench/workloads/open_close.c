/* Fixed syscall workload: N x (open("/etc/hostname") + close), the anchor Falco was measured on.
 * Optional second argument: a target rate in open+close pairs per second (0 = as fast as possible),
 * used by the capacity benchmark to find the highest rate traced with zero drops. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rusage.h"

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  double rate = argc > 2 ? atof(argv[2]) : 0;
  const char *path = argc > 3 ? argv[3] : "/etc/hostname";
  double start = now_s();
  for (long i = 0; i < n; i++) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror("open"); return 1; }
    close(fd);
    if (rate > 0 && (i & 255) == 255) {
      double ahead = (i + 1) / rate - (now_s() - start);
      if (ahead > 0) usleep((useconds_t)(ahead * 1e6));
    }
  }
  report_cpu();
  fprintf(stderr, "wall_s=%.6f\n", now_s() - start);
  return 0;
}

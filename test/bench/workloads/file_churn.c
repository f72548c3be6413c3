/* Path-change workload, the shape of a package install or an image unpack: N x (create a file,
 * rename it, chmod it, unlink it, mkdir + rmdir a directory) under a fresh directory in /tmp.
 * Every call names an absolute path no default or stock rule watches, so what reaches the agent
 * is what the kernel's change filter lets through. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rusage.h"

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 50000;
  char dir[] = "/tmp/lanner-churn-XXXXXX";
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  char a[256], b[256], d[256];
  snprintf(a, sizeof a, "%s/a.tmp", dir);
  snprintf(b, sizeof b, "%s/b.conf", dir);
  snprintf(d, sizeof d, "%s/sub", dir);
  double start = now_s();
  for (long i = 0; i < n; i++) {
    int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("open"); return 1; }
    close(fd);
    if (rename(a, b) || chmod(b, 0600) || unlink(b) || mkdir(d, 0755) || rmdir(d)) { perror("churn"); return 1; }
  }
  rmdir(dir);
  report_cpu();
  fprintf(stderr, "wall_s=%.6f\n", now_s() - start);
  return 0;
}

/* skiff-init: pid 1 for `--init` containers.
 * Runs argv after "--" as a child, forwards the signals it gets to the child,
 * reaps every zombie, and exits with the child's status (128+signal when killed). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "--") == 0) first = 2;
    if (first >= argc) {
        fprintf(stderr, "skiff-init: no command given\n");
        return 2;
    }
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t child = fork();
    if (child < 0) { perror("skiff-init: fork"); return 1; }
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        setpgid(0, 0);
        if (isatty(0)) tcsetpgrp(0, getpid());
        execvp(argv[first], argv + first);
        fprintf(stderr, "skiff-init: exec %s failed: %s\n", argv[first], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    for (;;) {
        int sig;
        struct timespec ts = {1, 0};
        siginfo_t info;
        sig = sigtimedwait(&all, &info, &ts);
        if (sig > 0 && sig != SIGCHLD) kill(child, sig);
        for (;;) {
            int status;
            pid_t p = waitpid(-1, &status, WNOHANG);
            if (p <= 0) break;
            if (p == child) {
                if (WIFEXITED(status)) return WEXITSTATUS(status);
                if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
            }
        }
    }
}

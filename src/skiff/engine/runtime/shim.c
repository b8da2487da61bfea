/* skiff-shim: the parent of one container process (init or exec).
 *
 * It holds the process's stdio (pipes, or a pty master), writes the json-file log,
 * serves attach.sock and control.sock, and when the process exits writes exit.json
 * atomically and exits. It depends on nothing but its arguments, so it outlives the
 * engine. One epoll loop, single-threaded, no allocation on the hot path.
 *
 * Two ways to get the child:
 *   --pid N           the process already is our child (the Python runtime forked it
 *                     before exec'ing us);
 *   --run ARGV... ;   we run a command (runc create ...) that leaves the container init
 *                     behind; as child subreaper we inherit it, and read its pid from
 *                     --pid-file. --ready-fd gets "ok <pid>\n" or "error <status>\n".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define LINE_MAX_BUF 16384

enum { K_OUT = 1, K_ERR, K_PTY, K_ATTACH_L, K_CONTROL_L, K_CLIENT, K_CTRL, K_SIG, K_CONSOLE_L, K_STDIN, K_PIDFD };

struct client {
    int fd, kind; /* kind: K_CLIENT or K_CTRL; fd -1 when free */
    int header_done, want_stdin, want_out, want_err, reading, watched;
    char buf[512];
    size_t len;
};

static struct client clients[MAX_CLIENTS];
static int epfd, stdin_fd = -1, out_fd = -1, err_fd = -1, pty_fd = -1;
static int stdin_once, tty;
static const char *log_path, *exit_file, *oom_file, *pid_file, *gate_fifo;
static long long log_max_size;
static int log_max_file = 1, log_fd = -1;
static long long log_size;
static char linebuf[2][LINE_MAX_BUF];
static size_t linelen[2];

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "skiff-shim: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void ep_add(int fd, int kind, int idx) {
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.u64 = ((uint64_t)kind << 32) | (uint32_t)idx;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
}

static void rfc3339_now(char *out, size_t n) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, n - k, ".%09ldZ", ts.tv_nsec);
}

/* ---- json-file log ---- */

static void log_open(void) {
    log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (log_fd < 0) die("open %s: %s", log_path, strerror(errno));
    struct stat st;
    log_size = fstat(log_fd, &st) == 0 ? st.st_size : 0;
}

static void log_rotate(void) {
    char from[4096], to[4096];
    close(log_fd);
    if (log_max_file <= 1) {
        if (truncate(log_path, 0) < 0) { /* nothing more we can do */ }
    } else {
        for (int i = log_max_file - 1; i >= 1; i--) {
            if (i == 1) snprintf(from, sizeof from, "%s", log_path);
            else snprintf(from, sizeof from, "%s.%d", log_path, i - 1);
            snprintf(to, sizeof to, "%s.%d", log_path, i);
            rename(from, to);
        }
    }
    log_open();
}

/* JSON string escaping as Go's encoding/json does it (<, >, & escaped; bad UTF-8 → U+FFFD). */
static size_t json_escape(const unsigned char *s, size_t n, char *out) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
            else if (c == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
            else if (c == '\r') { out[o++] = '\\'; out[o++] = 'r'; }
            else if (c == '\t') { out[o++] = '\\'; out[o++] = 't'; }
            else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                memcpy(out + o, "\\u00", 4); o += 4;
                out[o++] = hex[c >> 4]; out[o++] = hex[c & 15];
            } else out[o++] = (char)c;
            i++;
            continue;
        }
        size_t len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        int ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) ok = (s[i + k] & 0xc0) == 0x80;
        if (ok && len == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
            memcpy(out + o, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6); o += 6;
            i += 3;
            continue;
        }
        if (!ok) { memcpy(out + o, "\xef\xbf\xbd", 3); o += 3; i++; continue; }
        memcpy(out + o, s + i, len); o += len; i += len;
    }
    return o;
}

static void log_entry(int stream, const char *p, size_t n) {
    static char out[LINE_MAX_BUF * 6 + 256];
    char ts[64];
    if (log_fd < 0) return;
    rfc3339_now(ts, sizeof ts);
    size_t o = 0;
    memcpy(out, "{\"log\":\"", 8); o = 8;
    o += json_escape((const unsigned char *)p, n, out + o);
    o += (size_t)snprintf(out + o, sizeof out - o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n",
                          stream ? "stderr" : "stdout", ts);
    if (log_max_size > 0 && log_size > 0 && log_size + (long long)o > log_max_size) log_rotate();
    write_all(log_fd, out, o);
    log_size += (long long)o;
}

/* Split into lines like Docker's copier: one entry per line, partial entries only when
 * the buffer fills or the stream ends. */
static void log_data(int stream, const char *p, size_t n) {
    if (log_fd < 0) return;
    char *buf = linebuf[stream];
    while (n > 0) {
        size_t room = LINE_MAX_BUF - linelen[stream];
        size_t take = n < room ? n : room;
        memcpy(buf + linelen[stream], p, take);
        linelen[stream] += take;
        p += take;
        n -= take;
        size_t start = 0;
        for (size_t i = 0; i < linelen[stream]; i++) {
            if (buf[i] == '\n') {
                log_entry(stream, buf + start, i + 1 - start);
                start = i + 1;
            }
        }
        if (start == 0 && linelen[stream] == LINE_MAX_BUF) start = linelen[stream], log_entry(stream, buf, start);
        memmove(buf, buf + start, linelen[stream] - start);
        linelen[stream] -= start;
    }
}

static void log_flush(int stream) {
    if (linelen[stream]) log_entry(stream, linebuf[stream], linelen[stream]);
    linelen[stream] = 0;
}

/* ---- stdin ----
 * Writes to the process's stdin never block the loop (a process that does not read its
 * input while we wait to hand it more would otherwise stall its output too): what does
 * not fit waits in `pending`, and stdin clients are not read until it has drained, so
 * back-pressure reaches the sender. Nothing read from a client is ever dropped: a client
 * is read only into the room `pending` has. Closing stdin (a stdin_once client's EOF, or
 * close_stdin on the control socket) waits for `pending` to drain, so every byte received
 * before the close reaches the process. */

static char pending[65536];
static size_t pending_len;
static int stdin_closing; /* close once `pending` has drained; later input is discarded */

/* Whether a client's stdin is read: off while `pending` holds data. The fd leaves epoll
 * rather than watching no events, as a hung-up peer would otherwise report EPOLLHUP on
 * every wait. Output to the client does not depend on it. */
static void client_watch(int i, int on) {
    struct client *c = &clients[i];
    if (c->watched == on) return;
    if (on) {
        struct epoll_event ev = {.events = EPOLLIN};
        ev.data.u64 = ((uint64_t)K_CLIENT << 32) | (uint32_t)i;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) return;
    } else {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    }
    c->watched = on;
}

static int stdin_client(const struct client *c) {
    return c->fd >= 0 && c->kind == K_CLIENT && c->reading && c->header_done && c->want_stdin;
}

static void clients_reading(int on) {
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (stdin_client(&clients[i])) client_watch(i, on);
}

static void watch_stdin_writable(int on) {
    struct epoll_event ev;
    if (tty) {
        ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
        ev.data.u64 = (uint64_t)K_PTY << 32;
        epoll_ctl(epfd, EPOLL_CTL_MOD, pty_fd, &ev);
    } else if (on) {
        ev.events = EPOLLOUT;
        ev.data.u64 = (uint64_t)K_STDIN << 32;
        epoll_ctl(epfd, EPOLL_CTL_ADD, stdin_fd, &ev);
    } else if (stdin_fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, stdin_fd, NULL);
    }
}

static void close_stdin_now(void) {
    if (pending_len) watch_stdin_writable(0);
    pending_len = 0;
    stdin_closing = 0;
    if (stdin_fd >= 0) close(stdin_fd);
    stdin_fd = -1;
    clients_reading(1); /* their further input is read and discarded */
}

static void flush_stdin(void) {
    int in = tty ? pty_fd : stdin_fd;
    size_t off = 0;
    while (in >= 0 && off < pending_len) {
        ssize_t w = write(in, pending + off, pending_len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) break;
        if (w < 0) { off = pending_len; break; } /* reader gone: the input is lost */
        off += (size_t)w;
    }
    if (in < 0) off = pending_len;
    memmove(pending, pending + off, pending_len - off);
    pending_len -= off;
    if (pending_len) return;
    watch_stdin_writable(0);
    if (stdin_closing) close_stdin_now();
    else clients_reading(1);
}

static void feed_stdin(const char *p, size_t n) {
    int in = tty ? pty_fd : stdin_fd;
    if (in < 0 || n == 0 || stdin_closing) return;
    int was_empty = pending_len == 0;
    memcpy(pending + pending_len, p, n); /* the caller read no more than the room left */
    pending_len += n;
    if (!was_empty) return;
    flush_stdin();
    if (pending_len) {
        watch_stdin_writable(1);
        clients_reading(0);
    }
}

static void close_stdin(void) {
    if (stdin_fd < 0 || tty) return;
    if (pending_len) stdin_closing = 1; /* flush_stdin closes it once drained */
    else close_stdin_now();
}

/* ---- exec gate ---- */

/* An exec'd process waits on a fifo until someone attaches (so no output is lost) or
 * the grace period ends (a detached exec). Opening the read side releases it. */
static int gate_fd = -1;

static void open_gate(void) {
    if (!gate_fifo) return;
    /* Kept open until we exit: the process may reach its open() of the write side
     * only after this, and it blocks until a reader exists. Its byte stays unread. */
    gate_fd = open(gate_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    unlink(gate_fifo);
    gate_fifo = NULL;
}

/* ---- attach clients ---- */

/* The client will send no more: with stdin_once that closes the container's stdin. */
static void client_input_done(struct client *c) {
    if (c->kind == K_CLIENT && c->want_stdin && stdin_once) close_stdin();
    c->want_stdin = 0;
    c->reading = 0;
}

static void client_close(struct client *c) {
    if (c->fd < 0) return;
    client_input_done(c);
    close(c->fd);
    c->fd = -1;
}

static void broadcast(int stream, const char *p, size_t n) {
    unsigned char hdr[8] = {0};
    hdr[0] = (unsigned char)(stream + 1);
    hdr[4] = (unsigned char)(n >> 24); hdr[5] = (unsigned char)(n >> 16);
    hdr[6] = (unsigned char)(n >> 8); hdr[7] = (unsigned char)n;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &clients[i];
        if (c->fd < 0 || c->kind != K_CLIENT || !c->header_done) continue;
        if (!(stream ? c->want_err : c->want_out)) continue;
        if ((!tty && write_all(c->fd, (const char *)hdr, 8) < 0) || write_all(c->fd, p, n) < 0)
            client_close(c); /* gone, or stuck past SO_SNDTIMEO */
    }
}

static int json_flag(const char *s, const char *key) {
    const char *p = strstr(s, key);
    if (!p) return 0;
    p += strlen(key);
    while (*p == '"' || *p == ':' || *p == ' ') p++;
    return strncmp(p, "true", 4) == 0;
}

static void set_winsize(int h, int w) {
    if (pty_fd < 0) return;
    struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
    ioctl(pty_fd, TIOCSWINSZ, &ws);
}

static void control_line(const char *line) {
    const char *p = strstr(line, "\"resize\"");
    if (p) {
        int h = 0, w = 0;
        p = strchr(p, '[');
        if (p && sscanf(p, "[%d ,%d", &h, &w) == 2) set_winsize(h, w);
    }
    if (json_flag(line, "\"start\"")) open_gate();
    if (json_flag(line, "\"close_stdin\"")) close_stdin();
}

/* How much to read from a client now: a header line exactly (what follows it is stdin),
 * stdin no more than `pending` has room for. 0: leave it in the socket for now. */
static size_t client_read_size(struct client *c, char *peek, size_t cap) {
    if (c->kind != K_CLIENT) return cap;
    if (!c->header_done) {
        ssize_t k = recv(c->fd, peek, sizeof c->buf, MSG_DONTWAIT | MSG_PEEK);
        char *nl = k > 0 ? memchr(peek, '\n', (size_t)k) : NULL;
        return nl ? (size_t)(nl - peek) + 1 : k > 0 ? (size_t)k : 1;
    }
    if (!c->want_stdin || stdin_closing || (tty ? pty_fd : stdin_fd) < 0) return cap; /* discarded */
    size_t room = sizeof pending - pending_len;
    return room < cap ? room : cap;
}

static void client_readable(struct client *c) {
    char data[32768];
    int idx = (int)(c - clients);
    size_t want = client_read_size(c, data, sizeof data);
    if (want == 0) { client_watch(idx, 0); return; } /* resumed once `pending` drains */
    ssize_t n = recv(c->fd, data, want, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
        if (c->kind == K_CTRL || n < 0) { client_close(c); return; }
        /* half-closed: stop reading, keep sending output until the write side fails */
        client_watch(idx, 0);
        client_input_done(c);
        return;
    }
    size_t off = 0;
    if (c->kind == K_CTRL || !c->header_done) {
        /* gather one line at a time */
        while (off < (size_t)n) {
            char ch = data[off++];
            if (ch != '\n') {
                if (c->len < sizeof c->buf - 1) c->buf[c->len++] = ch;
                continue;
            }
            c->buf[c->len] = 0;
            c->len = 0;
            if (c->kind == K_CTRL) { control_line(c->buf); continue; }
            c->want_stdin = json_flag(c->buf, "\"stdin\"");
            c->want_out = json_flag(c->buf, "\"stdout\"");
            c->want_err = json_flag(c->buf, "\"stderr\"");
            c->header_done = 1;
            if (pending_len && stdin_client(c)) client_watch(idx, 0);
            open_gate();
            break;
        }
        if (c->kind == K_CTRL || off >= (size_t)n) return;
    }
    if (!c->want_stdin) return;
    feed_stdin(data + off, (size_t)n - off);
}

/* Returns 1 if a connection was taken. Its header, if already sent, is read at once. */
static int accept_client(int lfd, int kind) {
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return 0;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].fd >= 0) continue;
        memset(&clients[i], 0, sizeof clients[i]);
        clients[i].fd = fd;
        clients[i].kind = kind;
        clients[i].reading = 1;
        struct timeval tv = {5, 0}; /* a stuck reader is dropped rather than stalling the container */
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        ep_add(fd, kind, i);
        clients[i].watched = 1;
        client_readable(&clients[i]);
        return 1;
    }
    close(fd);
    return 1;
}

/* Clients that connected before the process could write (the engine attaches before
 * `start`) must see all of its output: take them, and read the headers they have sent,
 * before any output is handed out. A client accepted before its header arrived is read
 * here too: its header may be waiting in the same wake-up as the first output. So the
 * engine only has to have sent the header before `start`, not wait for us to read it. */
static int attach_listen = -1;

static void accept_pending(void) {
    if (attach_listen >= 0)
        while (accept_client(attach_listen, K_CLIENT)) {}
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd >= 0 && clients[i].kind == K_CLIENT && !clients[i].header_done && clients[i].reading)
            client_readable(&clients[i]);
}

/* ---- output and exit ---- */

/* Returns 1 after data, 0 at EOF, -1 when nothing is there now. */
static int pump(int *fdp, int stream) {
    char data[32768];
    accept_pending();
    ssize_t n = read(*fdp, data, sizeof data);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return -1;
    if (n <= 0) { /* EOF, or EIO on a pty whose slave side is gone */
        epoll_ctl(epfd, EPOLL_CTL_DEL, *fdp, NULL);
        if (*fdp != pty_fd) close(*fdp);
        *fdp = -1;
        log_flush(stream);
        return 0;
    }
    log_data(stream, data, (size_t)n);
    broadcast(stream, data, (size_t)n);
    return 1;
}

static int oom_killed(void) {
    if (!oom_file) return 0;
    FILE *f = fopen(oom_file, "r");
    if (!f) return 0;
    char key[64];
    long long v;
    int killed = 0;
    while (fscanf(f, "%63s %lld", key, &v) == 2)
        if (strcmp(key, "oom_kill") == 0 && v > 0) killed = 1;
    fclose(f);
    return killed;
}

static void write_exit(int status) {
    char tmp[4096], ts[64], body[512];
    int code = 0, sig = 0;
    if (WIFEXITED(status)) code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) sig = WTERMSIG(status), code = 128 + sig;
    rfc3339_now(ts, sizeof ts);
    int n = snprintf(body, sizeof body,
                     "{\"exit_code\":%d,\"signal\":%d,\"oom_killed\":%s,\"finished_at\":\"%s\"}\n",
                     code, sig, oom_killed() ? "true" : "false", ts);
    snprintf(tmp, sizeof tmp, "%s.tmp", exit_file);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die("open %s: %s", tmp, strerror(errno));
    write_all(fd, body, (size_t)n);
    /* No fsync: an exit is a state change (docs/architecture.md, fsync policy). After a host
       crash the engine's restore records a container whose exit.json is missing as exited;
       an fsync here cost every `docker run --rm` about a millisecond before its wait returned. */
    close(fd);
    if (rename(tmp, exit_file) < 0) die("rename %s: %s", exit_file, strerror(errno));
}

static pid_t read_pid_file(void) {
    FILE *f = fopen(pid_file, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

static int parse_fd(const char *s) { return atoi(s); }

/* runc --console-socket: runc connects and hands over the pty master. */
static void accept_console(int lfd) {
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return;
    char data[256], cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {data, sizeof data};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    if (recvmsg(fd, &msg, MSG_CMSG_CLOEXEC) > 0) {
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && pty_fd < 0) {
            memcpy(&pty_fd, CMSG_DATA(c), sizeof(int));
            tty = 1;
            fcntl(pty_fd, F_SETFL, O_NONBLOCK);
            ep_add(pty_fd, K_PTY, 0);
        }
    }
    close(fd);
}

/* Collect exited children. Returns 1 when the watched process has exited (status set).
 * In --run mode the runner's exit tells us the container's pid (or that it failed). */
static int reap(pid_t *child, pid_t *runner, int *ready_fd, int *status) {
    /* Orphans reaped before we know which pid is ours (a `runc exec -d` process can exit
     * before runc does): keep their statuses to look the pid up afterwards. */
    static pid_t early_pid[64];
    static int early_status[64], early_n;
    int st, done = 0;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
        if (*runner && p == *runner) {
            *runner = 0;
            *child = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? read_pid_file() : 0;
            for (int i = 0; *child && i < early_n; i++)
                if (early_pid[i] == *child) { done = 1; *status = early_status[i]; }
            if (*child && !done && kill(*child, 0) < 0 && errno == ESRCH) {
                done = 1; /* reaped by someone else: its status is lost */
                *status = 255 << 8;
            }
            if (*ready_fd >= 0) {
                char msg[64];
                int k = *child ? snprintf(msg, sizeof msg, "ok %d\n", *child)
                               : snprintf(msg, sizeof msg, "error %d\n", st);
                write_all(*ready_fd, msg, (size_t)k);
                close(*ready_fd);
                *ready_fd = -1;
            }
        } else if (*child && p == *child) {
            done = 1;
            *status = st;
        } else if (*runner && early_n < 64) {
            early_pid[early_n] = p;
            early_status[early_n++] = st;
        }
    }
    return done;
}

int main(int argc, char **argv) {
    pid_t child = 0, runner = 0;
    int gate_ms = 2000;
    int attach_l = -1, control_l = -1, ready_fd = -1, console_l = -1;
    char **run_argv = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "";
#define OPT(name) (strcmp(a, name) == 0 && ++i)
        if (OPT("--pid")) child = (pid_t)atoi(v);
        else if (OPT("--stdin-fd")) stdin_fd = parse_fd(v);
        else if (OPT("--stdout-fd")) out_fd = parse_fd(v);
        else if (OPT("--stderr-fd")) err_fd = parse_fd(v);
        else if (OPT("--pty-fd")) pty_fd = parse_fd(v), tty = 1;
        else if (OPT("--attach-fd")) attach_l = parse_fd(v);
        else if (OPT("--control-fd")) control_l = parse_fd(v);
        else if (OPT("--ready-fd")) ready_fd = parse_fd(v);
        else if (OPT("--console-fd")) console_l = parse_fd(v);
        else if (OPT("--exit-file")) exit_file = v;
        else if (OPT("--oom-file")) oom_file = v;
        else if (OPT("--pid-file")) pid_file = v;
        else if (OPT("--gate-fifo")) gate_fifo = v;
        else if (OPT("--gate-ms")) gate_ms = atoi(v);
        else if (OPT("--log")) log_path = v;
        else if (OPT("--log-max-size")) log_max_size = atoll(v);
        else if (OPT("--log-max-file")) log_max_file = atoi(v);
        else if (strcmp(a, "--stdin-once") == 0) stdin_once = 1;
        else if (strcmp(a, "--run") == 0) { run_argv = argv + i + 1; break; }
        else die("unknown argument %s", a);
#undef OPT
    }
    if (!exit_file) die("--exit-file is required");
    if (!child && !run_argv) die("--pid or --run is required");
    for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;

    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (sfd < 0 || epfd < 0) die("signalfd/epoll: %s", strerror(errno));
    ep_add(sfd, K_SIG, 0);

    if (run_argv) { /* runc create ...: its stdio are the container's */
        runner = fork();
        if (runner < 0) die("fork: %s", strerror(errno));
        if (runner == 0) {
            sigprocmask(SIG_UNBLOCK, &mask, NULL);
            execvp(run_argv[0], run_argv);
            _exit(127);
        }
        /* runc took the container's ends of the stdio on 0-2; we must not hold them open */
        int null = open("/dev/null", O_RDWR);
        for (int k = 0; k < 3; k++) dup2(null, k);
        if (null > 2) close(null);
    }
    if (log_path) log_open();
    if (stdin_fd >= 0) fcntl(stdin_fd, F_SETFL, O_NONBLOCK);
    if (out_fd >= 0) { fcntl(out_fd, F_SETFL, O_NONBLOCK); ep_add(out_fd, K_OUT, 0); }
    if (err_fd >= 0) { fcntl(err_fd, F_SETFL, O_NONBLOCK); ep_add(err_fd, K_ERR, 0); }
    if (pty_fd >= 0) { fcntl(pty_fd, F_SETFL, O_NONBLOCK); ep_add(pty_fd, K_PTY, 0); }
    if (attach_l >= 0) {
        fcntl(attach_l, F_SETFL, O_NONBLOCK);
        attach_listen = attach_l;
        ep_add(attach_l, K_ATTACH_L, 0);
    }
    if (control_l >= 0) fcntl(control_l, F_SETFL, O_NONBLOCK);
    if (control_l >= 0) ep_add(control_l, K_CONTROL_L, 0);
    if (console_l >= 0) ep_add(console_l, K_CONSOLE_L, 0);

    int status = 0;
    /* the child may have exited before the signalfd existed: its SIGCHLD is lost then */
    int exited = reap(&child, &runner, &ready_fd, &status);
    int watching = 0;
    while (!exited) {
        struct epoll_event evs[16];
        if (gate_fifo && gate_ms == 0) open_gate(); /* a detached exec: nobody will attach */
        int n = epoll_wait(epfd, evs, 16, gate_fifo ? gate_ms : -1);
        if (n == 0) open_gate(); /* nobody attached in time: a detached exec */
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("epoll_wait: %s", strerror(errno));
        for (int e = 0; e < n; e++) {
            int kind = (int)(evs[e].data.u64 >> 32), idx = (int)(uint32_t)evs[e].data.u64;
            switch (kind) {
            case K_OUT: pump(&out_fd, 0); break;
            case K_ERR: pump(&err_fd, 1); break;
            case K_PTY:
                if (evs[e].events & EPOLLOUT) flush_stdin();
                if (evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) pump(&pty_fd, 0);
                break;
            case K_STDIN: flush_stdin(); break;
            case K_ATTACH_L: accept_client(attach_l, K_CLIENT); break;
            case K_CONTROL_L: accept_client(control_l, K_CTRL); break;
            case K_CONSOLE_L: accept_console(console_l); break;
            case K_CLIENT: case K_CTRL: client_readable(&clients[idx]); break;
            case K_SIG: {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == sizeof si) {}
                if (exited) break;
                if (reap(&child, &runner, &ready_fd, &status)) exited = 1;
                else if (!child && !runner) return 1;
                else if (run_argv && child && !runner && !watching) {
                    /* In --run mode the process should have become our child when its
                     * runner exited; a pidfd still tells us it ended if it did not. */
                    int pfd = (int)syscall(SYS_pidfd_open, child, 0);
                    if (pfd >= 0) ep_add(pfd, K_PIDFD, 0);
                    watching = 1;
                }
                break;
            }
            case K_PIDFD:
                if (exited) break; /* the same batch's SIGCHLD already gave us its status */
                if (reap(&child, &runner, &ready_fd, &status)) exited = 1;
                else if (waitpid(child, &status, WNOHANG) < 0 && errno == ECHILD) {
                    exited = 1; /* not our child after all: its status is lost */
                    status = 255 << 8;
                }
                break;
            }
        }
    }
    /* The process is gone: take what it wrote before exiting, then report. */
    accept_pending();
    while (out_fd >= 0 && pump(&out_fd, 0) > 0) {}
    while (err_fd >= 0 && pump(&err_fd, 1) > 0) {}
    while (pty_fd >= 0 && pump(&pty_fd, 0) > 0) {}
    log_flush(0);
    log_flush(1);
    write_exit(status);
    for (int i = 0; i < MAX_CLIENTS; i++) client_close(&clients[i]);
    return 0;
}

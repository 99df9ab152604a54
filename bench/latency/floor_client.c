/* The client half of the benchmark's warm floor (samples/floor-agent): connects to the agent's Unix
 * socket, asks for one redefinition, prints the answer and exits 0 on "ok". As lean as jattach: one
 * process, one round trip, nothing else.
 *
 * Usage: floor_client SOCKET CLASS FILE */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: floor_client SOCKET CLASS FILE\n");
        return 2;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "socket path too long\n");
        return 2;
    }
    strcpy(addr.sun_path, argv[1]);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("connect");
        return 1;
    }
    char req[8192];
    int n = snprintf(req, sizeof req, "%s %s\n", argv[2], argv[3]);
    if (n <= 0 || (size_t)n >= sizeof req || write(s, req, (size_t)n) != n) {
        perror("write");
        return 1;
    }
    char reply[4096];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof reply - 1 && (r = read(s, reply + got, sizeof reply - 1 - got)) > 0) got += (size_t)r;
    reply[got] = 0;
    fputs(reply, stdout);
    return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
}

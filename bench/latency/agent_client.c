/* jhot's agent with the least possible client: the benchmark's `agent-only` tool. Sends the two
 * frames `jhot redefine` sends to a resident agent (hello, then redefine with the class bytes and
 * "before", pipelined), reads both answers and exits 0 if the redefinition answered ok. No checks
 * of the target, no verdict, no output: what separates jhot's agent from jhot's process.
 *
 * A frame (crates/engine/src/agent/protocol.rs): u32 length of the rest, u8 version 1, u32 JSON
 * length, the JSON, u32 blob count, then each blob as u32 length and bytes; integers big-endian.
 *
 * Usage: agent_client SOCKET CLASS FILE */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static unsigned char *put32(unsigned char *p, uint32_t v) {
    p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
    return p + 4;
}

static uint32_t get32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Appends one frame with `json` and at most one blob to `out`; returns its end. */
static unsigned char *frame(unsigned char *out, const char *json, const unsigned char *blob, uint32_t blob_len,
                            int with_blob) {
    uint32_t jl = (uint32_t)strlen(json);
    uint32_t rest = 1 + 4 + jl + 4 + (with_blob ? 4 + blob_len : 0);
    out = put32(out, rest);
    *out++ = 1;
    out = put32(out, jl);
    memcpy(out, json, jl);
    out += jl;
    out = put32(out, with_blob ? 1 : 0);
    if (with_blob) {
        out = put32(out, blob_len);
        memcpy(out, blob, blob_len);
        out += blob_len;
    }
    return out;
}

static int read_full(int s, unsigned char *b, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(s, b + got, n - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: agent_client SOCKET CLASS FILE\n");
        return 2;
    }
    static unsigned char cls[1 << 20], req[(1 << 20) + 4096], reply[1 << 20];
    int f = open(argv[3], O_RDONLY | O_CLOEXEC);
    ssize_t n = f < 0 ? -1 : read(f, cls, sizeof cls);
    if (n <= 0 || n == (ssize_t)sizeof cls) {
        fprintf(stderr, "cannot read %s\n", argv[3]);
        return 2;
    }
    close(f);
    char json[1024];
    if (snprintf(json, sizeof json,
                 "{\"id\":2,\"op\":\"redefine\",\"classes\":[{\"name\":\"%s\",\"blob\":0}],"
                 "\"loader\":null,\"pending\":true,\"before\":true}", argv[2]) >= (int)sizeof json) {
        fprintf(stderr, "class name too long\n");
        return 2;
    }
    unsigned char *end = frame(req, "{\"id\":1,\"op\":\"hello\",\"protocol\":1,\"client\":\"jhot 0.1.0\"}", NULL, 0, 0);
    end = frame(end, json, cls, (uint32_t)n, 1);

    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "socket path too long\n");
        return 2;
    }
    strcpy(addr.sun_path, argv[1]);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("connect");
        return 1;
    }
    if (write(s, req, (size_t)(end - req)) != end - req) {
        perror("write");
        return 1;
    }
    for (int k = 0; k < 2; k++) {
        unsigned char len[4];
        if (read_full(s, len, 4) || get32(len) > sizeof reply || read_full(s, reply, get32(len))) {
            fprintf(stderr, "the agent closed the connection\n");
            return 1;
        }
        if (!memmem(reply, get32(len), "\"ok\":true", 9)) {
            fwrite(reply, 1, get32(len) < 400 ? get32(len) : 400, stderr);
            fputc('\n', stderr);
            return 1;
        }
    }
    return 0;
}

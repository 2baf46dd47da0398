/*
 * floor.c - the bare FastCGI floor for benchmarks: a libfcgi responder that answers every
 * request with a fixed small JSON body and does nothing else. Served by the same nginx and
 * the same spawn-fcgi + multiwatch pool size as stremora-fcgi, it is what no handler of
 * ours can beat; tools/bench reports our routes as a ratio of it.
 */
#include <fcgiapp.h>

int
main(void)
{
    static const char resp[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
                               "Content-Length: 15\r\n\r\n{\"status\":\"ok\"}";
    FCGX_Request r;

    if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0) {
        return 1;
    }
    while (FCGX_Accept_r(&r) >= 0) {
        FCGX_PutStr(resp, (int)sizeof(resp) - 1, r.out);
        FCGX_Finish_r(&r);
    }
    return 0;
}

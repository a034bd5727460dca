/* The ceiling for the HTTP benchmark: libmicrohttpd serving a fixed buffer
 * from one response object, with the same threading as sparkmon (one epoll
 * thread per listener). Usage: fixed PORT FILE [gzip]; with "gzip" the
 * buffer (already compressed) is sent as Content-Encoding: gzip. */
#include <microhttpd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct MHD_Response *response;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
	(void)cls, (void)url, (void)method, (void)version, (void)data, (void)size, (void)con_cls;
	return MHD_queue_response(c, MHD_HTTP_OK, response);
}

int main(int argc, char **argv)
{
	static char buf[4 << 20];
	struct MHD_Daemon *d;
	size_t len;
	FILE *f;

	if (argc < 3 || argc > 4 || !(f = fopen(argv[2], "rb")))
		return 2;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	response = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(response, "Content-Type", "text/plain; version=0.0.4");
	if (argc == 4)
		MHD_add_response_header(response, "Content-Encoding", "gzip");
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
	                     (uint16_t)atoi(argv[1]), NULL, NULL, on_request, NULL, MHD_OPTION_END);
	if (!d)
		return 1;
	pause();
	return 0;
}

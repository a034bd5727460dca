/* sparkmon-fetch's answer, and the body of a "what is my IP" answer in
 * it, as the endpoint probe reads them. */
#include "probes/endpoint.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct endpoint_fetch *answer = malloc(sizeof(*answer));
	char ip[INET_ADDRSTRLEN], err[ENDPOINT_ERROR_MAX];

	if (!answer)
		abort();
	if (endpoint_parse_fetch((const char *)data, size, answer, err, sizeof(err)) == 0)
		endpoint_parse_ip(answer->body, answer->body_len, ip, err, sizeof(err));
	endpoint_parse_ip((const char *)data, size, ip, err, sizeof(err));
	free(answer);
	return 0;
}

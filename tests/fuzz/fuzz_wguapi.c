/* A userspace WireGuard device's answer to `get=1`. */
#include "probes/wguapi.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wireguard_device dev = {.name = "wg0"};
	char err[256];

	wguapi_parse((const char *)data, size, &dev, err, sizeof(err));
	wireguard_device_free(&dev);
	return 0;
}

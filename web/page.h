/* The status page's files (web/page/), embedded into the binary at build
 * time: the browser on the VPN may reach nothing but this server. */
#ifndef SPARKMON_PAGE_H
#define SPARKMON_PAGE_H

#include <stddef.h>

struct page_asset {
	const char *path; /* URL path: "/", "/app.js", "/style.css" */
	const char *content_type;
	const unsigned char *data, *end; /* the bytes are [data, end) */
};

extern const struct page_asset page_assets[];
extern const size_t page_asset_count;

#endif

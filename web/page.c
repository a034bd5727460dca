#include "web/page.h"

/* .incbin pulls the files in as read-only data at assembly time; the paths
 * are relative to the project root, where make runs the compiler. The
 * Makefile makes this object depend on the files in web/page. */
#define EMBED(sym, file)                                                                           \
	__asm__(".section .rodata\n"                                                               \
	        ".balign 16\n"                                                                     \
	        ".global " #sym "\n" #sym ":\n"                                                    \
	        ".incbin \"" file "\"\n"                                                           \
	        ".global " #sym "_end\n" #sym "_end:\n"                                            \
	        ".byte 0\n"                                                                        \
	        ".previous\n")

EMBED(page_index_html, "web/page/index.html");
EMBED(page_app_js, "web/page/app.js");
EMBED(page_style_css, "web/page/style.css");

extern const unsigned char page_index_html[], page_index_html_end[];
extern const unsigned char page_app_js[], page_app_js_end[];
extern const unsigned char page_style_css[], page_style_css_end[];

#define ASSET(path, type, sym)                                                                     \
	{                                                                                          \
		path, type, sym, sym##_end                                                         \
	}

const struct page_asset page_assets[] = {
    ASSET("/", "text/html; charset=utf-8", page_index_html),
    ASSET("/app.js", "text/javascript; charset=utf-8", page_app_js),
    ASSET("/style.css", "text/css; charset=utf-8", page_style_css),
};
const size_t page_asset_count = sizeof(page_assets) / sizeof(page_assets[0]);

/* UPnP IGD, read only: SSDP search on the uplink, the device description,
 * then GetExternalIPAddress, GetSpecificPortMappingEntry and (when the
 * port has no entry) GetGenericPortMappingEntry to count what the router
 * lists. The XML is parsed by libminiupnpc (probes/routermsg.c); the
 * transport is sparkmon's, for one deadline and a size cap on every
 * answer. */
#ifndef SPARKMON_ROUTERUPNP_H
#define SPARKMON_ROUTERUPNP_H

#include "probes/router.h"

/* The cap on an IGD description (real ones are a few KiB). */
#define ROUTERUPNP_DESC_MAX (64 * 1024)
/* The cap on a SOAP answer (real ones are under 2 KiB). */
#define ROUTERUPNP_SOAP_MAX (16 * 1024)
/* SSDP answers looked at in one search, at most. */
#define ROUTERUPNP_REPLIES_MAX 32

/* Sends the SSDP search from r->address out of the uplink. Returns the
 * socket its answers arrive on (they wait there while NAT-PMP is asked),
 * or a negative errno. */
int routerupnp_search(const struct router *r);

/* Takes the search's answers on search_fd until search_deadline_ms, then
 * asks the IGD found, every exchange before deadline_ms (both
 * CLOCK_MONOTONIC, see routerhttp_now_ms). Fills the upnp and mapping
 * fields of r; an SSDP answer or URL outside the uplink's network
 * (r->address/r->prefix), an answer over its cap, XML with a document
 * type and a value that is not what it should be are refused
 * (r->upnp_error). Does not close search_fd. */
void routerupnp_ask(int search_fd, long long search_deadline_ms, long long deadline_ms,
                    struct router *r);

#endif

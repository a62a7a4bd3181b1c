/*
 * service.h: agorad as a systemd service, through sd_notify(3). systemd hears
 * READY=1 once the node listens; a STATUS= line that `systemctl status agorad`
 * shows ("4/5 peers connected, 12 feeds, 3,104 records"), refreshed every few
 * seconds, or while the node catches up with its peers how far it is
 * ("catching up: 41% of 200,000 entries, 12 s left"); WATCHDOG=1 from the
 * event loop at half the unit's WatchdogSec=, so a loop stuck that long gets
 * the node restarted; STOPPING=1 on the way out.
 * Not under systemd (no NOTIFY_SOCKET), it does nothing. Loop thread only.
 */
#ifndef AGORA_SERVICE_H
#define AGORA_SERVICE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define SERVICE_STATUS_MS 5000 /* how often STATUS= is refreshed */

struct node;
struct service;

/* Tells systemd the node is ready and starts the timers. NULL (logged) when out of memory. */
struct service *service_new(uv_loop_t *, struct node *);
/* STOPPING=1, and closes the timers; after the loop has run dry, service_free. */
void service_stop(struct service *);
void service_free(struct service *); /* NULL-safe */

/* The STATUS= line of these figures, in buf (of len bytes). */
void service_status_format(char *buf, size_t len, size_t connected, size_t peers, uint64_t feeds,
                           uint64_t records);
/* The line while a catch-up runs: "catching up: 41% of 200,000 entries, 12 s left". */
void service_catchup_format(char *buf, size_t len, uint64_t received, uint64_t missing,
                            uint64_t left_ms);

#endif

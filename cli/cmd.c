/*
 * cmd.c: agora's command table, as wg.c keeps one: a name, the function that
 * does it, and a line of help. The table and the parser live here rather than
 * in main.c so that unit tests can drive the whole command line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client.h"
#include "cmd.h"
#include "ctl.h"
#include "ctl_resp.h"
#include "key.h"
#include "near.h"
#include "schema.h"

#define O(x) (UINT64_C(1) << (x))

static const struct optdef {
	const char *name;
	char shortname;
	const char *arg; /* NULL for a flag */
	const char *help;
} optdefs[OPT_END] = {
    [OPT_DIR] = {"dir", 0, "DIR",
                 "the node's directory (default: $AGORA_DIR, else /var/lib/agora)"},
    [OPT_JSON] = {"json", 0, NULL, "print one JSON document instead of text"},
    [OPT_HELP] = {"help", 'h', NULL, "show this help"},
    [OPT_NAME] = {"name", 0, "NAME", "the city's name, 1 to 64 bytes of UTF-8"},
    [OPT_LISTEN] = {"listen", 0, "ADDR:PORT", "where agorad listens (default 0.0.0.0:7447)"},
    [OPT_ENDPOINT] = {"endpoint", 0, "HOST:PORT", "where to reach the peer; none: it calls us"},
    [OPT_FILE] = {"file", 0, "FILE", "read the JSON document from FILE (default: stdin)"},
    [OPT_FORCE] = {"force", 0, NULL,
                   "publish even before this node has learned its own feed from a peer"},
    [OPT_CITY] = {"city", 0, "CITY", "a city's public key or name (default: this node)"},
    [OPT_TOPIC] = {"topic", 0, "TOPIC",
                   "a topic (see agora help topics); list, search: only records on it"},
    [OPT_TYPE] = {"type", 0, "TYPE", "only records of this type (see agora help types)"},
    [OPT_LIMIT] = {"limit", 0, "N", "at most N results"},
    [OPT_SINCE] = {"since", 0, "SINCE",
                   "log: entries from seq SINCE on (default 1); news: since the day SINCE "
                   "(YYYY-MM-DD), or last (the default): since you last looked"},
    [OPT_ID] = {"id", 0, "ID", "the record's id (default: made from the title)"},
    [OPT_TITLE] = {"title", 0, "TEXT", "the title"},
    [OPT_SUMMARY] = {"summary", 0, "TEXT", "a summary: what and why, in a few lines"},
    [OPT_DESCRIPTION] = {"description", 0, "TEXT", "the full description"},
    [OPT_STAKEHOLDER] = {"stakeholder", 0, "KEY",
                         "a stakeholder involved (repeatable; see agora help stakeholders)"},
    [OPT_YEAR] = {"year", 0, "N", "the year, 1900 to 2100"},
    [OPT_RESULTS] = {"results", 0, "TEXT", "what came out of it"},
    [OPT_CONTACT] = {"contact", 0, "TEXT", "whom to ask"},
    [OPT_LINK] = {"link", 0, "URL", "a link, http:// or https:// (repeatable)"},
    [OPT_LANG] = {"lang", 0, "CODE",
                  "the language of the text given (fr, ar, en...): stored as {CODE: text}; "
                  "list, search: only records with text in it (ar, en, es, fr, it)"},
    [OPT_REPLACE] = {"replace", 0, NULL, "replace the record if it exists"},
    [OPT_DATE] = {"date", 0, "YYYY-MM-DD", "the day"},
    [OPT_DONE] = {"done", 0, "N", "mark the Nth milestone done (1 is the first)"},
    [OPT_FORMAT] = {"format", 0, "FORMAT", "json, csv or md"},
    [OPT_OUTPUT] = {"output", 'o', "FILE", "write to FILE instead of stdout"},
    [OPT_WAIT] = {"wait", 0, NULL, "wait until this node holds all its peers announced"},
    [OPT_TIMEOUT] = {"timeout", 0, "SECONDS", "with --wait, give up after SECONDS (exit 1)"},
    [OPT_RECOVERY_KEY] = {"recovery-key", 0, "FILE",
                          "the recovery key agora init printed, saved to FILE"},
    [OPT_OLD_KEY] = {"old-key", 0, "KEY",
                     "recover: the lost key, when this node runs with a new one (key new)"},
    [OPT_ROLE] = {"role", 0, "ROLE", "partner (the default) or associate"},
    [OPT_PURGE] = {"purge", 0, NULL,
                   "also erase the body of every version, on every node, for good"},
    [OPT_ALL] = {"all", 0, NULL, "member, identity and purge records too"},
};

static const struct command commands[] = {
    {"init",
     cmd_init,
     "create a node's directory, config and key",
     "--name NAME [--listen ADDR:PORT]",
     {NULL},
     0,
     0,
     O(OPT_NAME) | O(OPT_LISTEN),
     "Creates DIR (mode 0750) with a new key pair in node.key (mode 0600) and\n"
     "agorad.conf, and prints the node's public key. Also makes the city's recovery\n"
     "key: prints its secret this once, to be saved to a file kept offline (agora\n"
     "recover reads it back), and keeps only its public half, in recovery.pub; the\n"
     "node's feed begins with it (identity/self). Needs no daemon. Refuses a DIR\n"
     "that already holds a key or a config.\n"
     "--json: key, name, dir and recovery_key (the text to save)."},
    {"id",
     cmd_id,
     "this node's public key and name",
     "",
     {NULL},
     0,
     0,
     0,
     "Prints the node's public key and name. Without a running agorad, reads them\n"
     "from DIR if it may."},
    {"status",
     cmd_status,
     "the node, its peers and the feeds it replicates",
     "",
     {NULL},
     0,
     0,
     0,
     "Shows the node, its store against MaxDisk and the limits (FULL when it\n"
     "takes nothing more from peers), each peer (connected or not, last contact,\n"
     "what this node lacks of what it announced and what it lacks of ours: WE\n"
     "LACK, THEY LACK; for a peer not connected, as last known, with when; what\n"
     "it runs: software and protocol, from its last hello) and each feed\n"
     "replicated (author, latest seq, bytes of its bodies held, and a note when\n"
     "it is over Quota or at QuotaEntries), the succession certificates held and\n"
     "the feeds closed, rotated away or voided (keys), and this node's own purges\n"
     "with the peers that have reached each (REACHED: they hold our feed as far, so\n"
     "erased what it names) and those not yet (NOT YET). Feeds only one side\n"
     "replicates count for neither.\n"
     "--json: we_lack, they_lack, lag_known_ms (0: never known), software and\n"
     "protocol (\"\" and 0 before a hello) for each peer, body_bytes, dropped,\n"
     "over_quota and capped for each feed, store_bytes, store_full, max_disk,\n"
     "quota, quota_entries, certs, closed (key, name), purges (id, seq, ts, and\n"
     "peers: name, key, connected, known, reached), and the catch-up (catchup:\n"
     "received, missing, rate, left_ms, running)."},
    {"sync",
     cmd_sync,
     "how far this node is in catching up with its peers",
     "[--wait [--timeout SECONDS]]",
     {NULL},
     0,
     0,
     O(OPT_WAIT) | O(OPT_TIMEOUT),
     "Shows the catch-up: entries received of those the peers announced, the rate\n"
     "and the time left; on a terminal as a bar redrawn in place, otherwise as a\n"
     "line every second. Without --wait, one look. With --wait, returns when this\n"
     "node holds everything its peers announced (a peer not connected counts by\n"
     "what it held when last known; one never heard from is waited for): exit 0;\n"
     "or when --timeout passes: exit 1, saying what is still missing and from whom.\n"
     "--json prints only the final figures, with each peer's."},
    {"compact",
     cmd_compact,
     "rewrite the node's store so that purged bodies leave its files",
     "",
     {NULL},
     0,
     0,
     0,
     "Rewrites the store (DIR/data) now, so that no byte of a purged body is\n"
     "left in the node's files. agorad does it by itself within seconds of\n"
     "storing a purge; the node answers no one while it runs (about a second\n"
     "per 100 MB of store)."},
    {"key rotate",
     cmd_key_rotate,
     "move this city to a new key",
     "",
     {NULL},
     0,
     0,
     0,
     "Makes a new key pair in node.key and moves the city to it: the old key's\n"
     "feed ends with identity/successor naming the new key, and the new feed\n"
     "begins with identity/self naming the old one and the same recovery key.\n"
     "Every node that receives the succession moves the city's place (its peer\n"
     "entry, the member records that introduce it, its name and role) to the new\n"
     "key, and refuses the old one. The old key is kept in node.key.old until every\n"
     "peer has connected to the new one. Prints the new key and the old."},
    {"recover",
     cmd_recover,
     "move this city to a new key by its recovery key",
     "--recovery-key FILE [--output CERT] [--old-key KEY]",
     {NULL},
     0,
     0,
     O(OPT_RECOVERY_KEY) | O(OPT_OUTPUT) | O(OPT_OLD_KEY),
     "When node.key is lost or stolen, or this node's feed forked: makes a new key,\n"
     "and a succession certificate signed by the recovery key in FILE (as agora init\n"
     "printed it) that names the last entry this node published as the old feed's\n"
     "last valid one. The certificate is written to CERT (default\n"
     "./agora-succession.cert, never overwritten) before anything else, then given to\n"
     "agorad, which moves to the new key and sends it to every peer it can still\n"
     "reach with the old one. Every node that holds it voids the old key's later\n"
     "entries, and any key they named as successor, and takes the new key in the\n"
     "old one's place. Give CERT to a partner city's IT: agora cert import CERT.\n"
     "If node.key is lost: agora key new, start agorad, then --old-key KEY names the\n"
     "lost key, whose successor is the key agorad runs with."},
    {"key new",
     cmd_key_new,
     "a new node.key, when the old one is lost",
     "",
     {NULL},
     0,
     0,
     0,
     "Writes a new key pair to DIR/node.key (mode 0600), which must not exist, and\n"
     "prints its public key. Needs no daemon. For a node whose node.key is lost:\n"
     "start agorad with the new key, then agora recover --old-key names the lost one."},
    {"cert import",
     cmd_cert_import,
     "import a succession certificate",
     "CERT",
     {"CERT"},
     1,
     1,
     0,
     "Checks the succession certificate in the file CERT (as agora recover wrote it)\n"
     "against the recovery key its old key's feed names, keeps it, voids the old\n"
     "key's entries after the one it names (and any key they named as successor),\n"
     "moves the old key's place in the config to the new key, and passes it on to\n"
     "every peer, so that it reaches every node."},
    {"peer add",
     cmd_peer_add,
     "add a peer city",
     "KEY --name NAME [--endpoint HOST:PORT] [--role partner|associate]",
     {"KEY"},
     1,
     1,
     O(OPT_NAME) | O(OPT_ENDPOINT) | O(OPT_ROLE),
     "Adds the city whose public key is KEY to the config, connects to it at once,\n"
     "and publishes a member record that introduces it to the network, with its\n"
     "name and role (partner unless --role associate; Role in its [Peer] section)."},
    {"peer remove",
     cmd_peer_remove,
     "remove a peer city",
     "KEY-OR-NAME",
     {"KEY"},
     1,
     1,
     0,
     "Removes the peer from the config, disconnects it, and retracts the member\n"
     "record that introduced it."},
    {"peer list",
     cmd_peer_list,
     "the configured peers",
     "",
     {NULL},
     0,
     0,
     0,
     "Lists the peers of the config: name, key, endpoint, whether connected, and\n"
     "what each runs (software and protocol, from its last hello)."},
    {"peer log",
     cmd_peer_log,
     "who introduced, changed, removed, rotated or recovered whom, and when",
     "",
     {NULL},
     0,
     0,
     0,
     "The roster's history, as the member and identity records of every feed this\n"
     "node replicates tell it, oldest first by their authors' clocks: who (BY, at\n"
     "SEQ of its feed) introduced a key (with the name and role it gave),\n"
     "changed its name or role, removed it, rotated to a new key (rotated) or\n"
     "took an old key's place (succeeds); and each succession certificate held\n"
     "(recovered: BY the old key, KEY the new, SEQ the last valid entry it names).\n"
     "--json: events, each with by, by_name, key, kind, name, role, seq and\n"
     "timestamp."},
    {"fork list",
     cmd_fork_list,
     "the feeds whose author signed two entries at one seq, with both proofs",
     "",
     {NULL},
     0,
     0,
     0,
     "Lists every forked feed this node holds proof of: its author (name and key),\n"
     "the seq where it forked, and the headers kept as proof (seq, time, record,\n"
     "hash). A forked feed takes nothing more until its author's recovery names\n"
     "where the valid feed ends. When the feed is this node's own, it says so and\n"
     "how to recover (agora recover --recovery-key FILE).\n"
     "--json: forks, each with author, name, own, seq and proofs (hash, id, raw:\n"
     "the base64 of the signed header, seq, timestamp, type)."},
    {"put",
     cmd_put,
     "publish a record from a JSON document",
     "TYPE ID [--file FILE] [--force]",
     {"TYPE", "ID"},
     2,
     2,
     O(OPT_FILE) | O(OPT_FORCE),
     "Publishes the record TYPE ID of this node, whose content is the JSON object\n"
     "read from FILE or stdin, and prints its seq and hash. A new version replaces\n"
     "the record; every version is kept (agora history)."},
    {"get",
     cmd_get,
     "one record's current state",
     "TYPE ID [--city CITY]",
     {"TYPE", "ID"},
     2,
     2,
     O(OPT_CITY),
     "Prints the current version of a city's record TYPE ID."},
    {"list",
     cmd_list,
     "records, newest first",
     "[TYPE] [--all] [--city CITY] [--topic TOPIC] [--lang CODE] [--limit N]",
     {"TYPE"},
     0,
     1,
     O(OPT_CITY) | O(OPT_TOPIC) | O(OPT_LIMIT) | O(OPT_TYPE) | O(OPT_LANG) | O(OPT_ALL),
     "Lists the live records of every city (or one), newest first: the network's\n"
     "knowledge. The roster and feed records (member, identity, purge) are listed\n"
     "with --all, or by their TYPE."},
    {"search",
     cmd_search,
     "full-text search over every city's records",
     "TEXT [--type TYPE] [--city CITY] [--topic TOPIC] [--lang CODE] [--limit N]",
     {"TEXT"},
     1,
     1,
     O(OPT_TYPE) | O(OPT_CITY) | O(OPT_TOPIC) | O(OPT_LIMIT) | O(OPT_LANG),
     "Finds the records that hold every word of TEXT, in any of their languages,\n"
     "case and accents folded (hebergement finds hébergement), in any of its forms\n"
     "(pratique finds pratiques, سكن finds والسكن); the last word, of 4 letters or more,\n"
     "or a word written word*, as the start of a word; a topic's name in any language\n"
     "(logement, housing, سكن, vivienda, alloggio) also finds that topic's records.\n"
     "Ranked: title above summary above the rest, the word above its other forms,\n"
     "records found by topic last, ties newest first; each with its best snippet."},
    {"retract",
     cmd_retract,
     "publish a retraction",
     "TYPE ID [--purge] [--force]",
     {"TYPE", "ID"},
     2,
     2,
     O(OPT_FORCE) | O(OPT_PURGE),
     "Retracts this node's record TYPE ID: a signed entry with no body. Its\n"
     "earlier versions stay in the history. With --purge it also publishes a\n"
     "purge record naming every version: each node that receives it erases\n"
     "their bodies for good (their headers stay, state purged), and compacts\n"
     "its files so that their bytes are gone. A retracted record can be purged."},
    {"history",
     cmd_history,
     "every version of a record",
     "TYPE ID [--city CITY]",
     {"TYPE", "ID"},
     2,
     2,
     O(OPT_CITY),
     "Lists every version of a record, oldest first, with seq, time and hash.\n"
     "history member KEY, without --city: the roster's history of that key, from\n"
     "every feed this node replicates: who introduced it (name, role), changed or\n"
     "removed it, and its rotations and recoveries, oldest first, as agora peer\n"
     "log shows them."},
    {"log",
     cmd_log,
     "a city's raw entries",
     "[--city CITY] [--since SEQ] [--limit N]",
     {NULL},
     0,
     0,
     O(OPT_CITY) | O(OPT_SINCE) | O(OPT_LIMIT),
     "Lists the entries of a city's feed in seq order. With --json each entry has\n"
     "raw, the base64 of its signed header, body_raw, the base64 of its body (null\n"
     "when not held), so both can be verified independently, and state: live,\n"
     "retracted, purged or missing (a body this node does not hold)."},
    {"show",
     cmd_show,
     "a record laid out for reading",
     "TYPE ID [--city CITY]",
     {"TYPE", "ID"},
     2,
     2,
     O(OPT_CITY),
     "Shows a city's record TYPE ID for reading: its title, city, every field with\n"
     "its label, each language of a text labelled, topics and stakeholders with\n"
     "their French, English and Arabic labels, lists numbered, milestones [x] or [ ].\n"
     "With --json, the record as agora get --json prints it."},
    {"practice add",
     cmd_practice_add,
     "publish a good practice",
     "--title TEXT --topic TOPIC... --summary TEXT [--id ID] [--description TEXT]\n"
     "       [--stakeholder KEY]... [--year N] [--results TEXT] [--contact TEXT]\n"
     "       [--link URL]... [--lang CODE] [--replace]",
     {NULL},
     0,
     0,
     O(OPT_ID) | O(OPT_TITLE) | O(OPT_TOPIC) | O(OPT_SUMMARY) | O(OPT_DESCRIPTION) |
         O(OPT_STAKEHOLDER) | O(OPT_YEAR) | O(OPT_RESULTS) | O(OPT_CONTACT) | O(OPT_LINK) |
         O(OPT_LANG) | O(OPT_REPLACE),
     "Publishes a good practice of this city, checked against the practice schema\n"
     "(agora schema practice) before it is signed, and prints its id, seq and hash.\n"
     "--topic, --stakeholder and --link may be given more than once. The id is\n"
     "made from the title (\"Accès aux droits\" gives acces-aux-droits) unless\n"
     "--id gives one; an existing practice is replaced only with --replace. With\n"
     "--lang fr the texts are stored as {\"fr\": text}."},
    {"profile set",
     cmd_profile_set,
     "set fields of this city's profile",
     "FIELD VALUE [FIELD VALUE]... [--lang CODE]",
     {"FIELD", "VALUE"},
     2,
     CMD_POS_MAX,
     O(OPT_LANG),
     "Sets fields of this city's profile (the record profile main) and publishes\n"
     "it. FIELD is a path: city, population.value, summary.fr, sections.2.text\n"
     "(list items count from 1; one more than there are adds one). VALUE is read\n"
     "as the field holds it: a number for numbers, true or false, topics as\n"
     "\"housing, health\", JSON for a whole list or group; an empty VALUE removes\n"
     "the field. A new profile needs city, country and region at once:\n"
     "  agora profile set city Lyon country France region europe"},
    {"profile show",
     cmd_profile_show,
     "a city's profile, for reading",
     "[--city CITY]",
     {NULL},
     0,
     0,
     O(OPT_CITY),
     "Shows a city's profile as agora show profile main does."},
    {"pilot milestone",
     cmd_pilot_milestone,
     "add a milestone to a pilot, or mark one done",
     "ID --date YYYY-MM-DD TEXT | ID --done N",
     {"ID", "TEXT"},
     1,
     2,
     O(OPT_DATE) | O(OPT_DONE) | O(OPT_LANG),
     "Adds a milestone (date, text, not done) at the end of this city's pilot ID,\n"
     "or with --done N marks its Nth milestone done (1 is the first, in the order\n"
     "agora show lists them), and publishes the pilot."},
    {"pilot status",
     cmd_pilot_status,
     "set a pilot's status",
     "ID planned|running|done",
     {"ID", "STATUS"},
     2,
     2,
     0,
     "Sets the status of this city's pilot ID and publishes it."},
    {"comment",
     cmd_comment,
     "reply to a city's record",
     "TYPE ID TEXT [--city CITY] [--lang CODE]",
     {"TYPE", "ID", "TEXT"},
     3,
     3,
     O(OPT_CITY) | O(OPT_LANG),
     "Publishes a comment of this city on the record TYPE ID of CITY (default:\n"
     "this node): the dialogue between cities. The record must exist. The\n"
     "comment's id is made from the time and a random suffix, and printed."},
    {"export",
     cmd_export,
     "the network's records for reports and spreadsheets",
     "--format json|csv|md [--city CITY] [--type TYPE] [--output FILE]",
     {NULL},
     0,
     0,
     O(OPT_FORMAT) | O(OPT_CITY) | O(OPT_TYPE) | O(OPT_OUTPUT),
     "Writes every live record of every city (or of one city, or one type),\n"
     "sorted by city, type and id:\n"
     "  json  one document: {count, records: [{city, author, type, id, seq, time,\n"
     "        timestamp, body}]}, time in UTC\n"
     "  csv   RFC 4180, UTF-8, CRLF line ends, a header row, one row per record:\n"
     "        city, type, id, title, topics, summary, date, updated, author; a\n"
     "        text in several languages is one cell, \"fr: ...; en: ...\"; date is\n"
     "        the year, the date, or start/end; updated is UTC; a cell that\n"
     "        starts with = + - or @ gets a leading ' so no spreadsheet runs it\n"
     "  md    Markdown: a heading per city and per type, each record with its\n"
     "        title, topics (labels), fields, and tables for lists such as\n"
     "        milestones\n"
     "With --output the file is written whole or not at all."},
    {"edit",
     cmd_edit,
     "write or change a record in your editor",
     "TYPE ID",
     {"TYPE", "ID"},
     2,
     2,
     0,
     "Opens this city's record TYPE ID in $EDITOR (else editor, else vi) as JSON\n"
     "under comments that list its type's fields; a new record starts from a\n"
     "template of its schema, the optional fields commented out. Lines that start\n"
     "with // are ignored, and so is a comma before } or ]. On save the record is\n"
     "checked as agora put checks it and published; if it is refused, the file\n"
     "opens again with the reasons on top, until it is right or left as it was.\n"
     "A file saved unchanged publishes nothing."},
    {"news",
     cmd_news,
     "what arrived since you last looked, by city",
     "[--since YYYY-MM-DD|last]",
     {NULL},
     0,
     0,
     O(OPT_SINCE),
     "Lists, city by city, what arrived: new records, new versions, retractions,\n"
     "cities introduced as members, and cities newly followed. --since last (the\n"
     "default) is since you last asked on this node: what you have seen of each\n"
     "city is kept in $XDG_STATE_HOME/agora/news.json (else ~/.local/state/agora/),\n"
     "so nothing that arrived is missed, whatever its author's clock says; the\n"
     "first time, everything is new. --since DATE lists what was published from\n"
     "that day on (UTC, by its author's clock) and changes nothing kept."},
    {"report",
     cmd_report_html,
     "the network's knowledge as one HTML page",
     "[--output FILE.html]",
     {NULL},
     0,
     0,
     O(OPT_OUTPUT),
     "Writes one self-contained HTML page for city officers: the network (each\n"
     "city's role, region, last contact and how many records it shares), a chart\n"
     "of good practices by topic and city, the pilots with their milestones on a\n"
     "timeline (overdue ones marked), what is new in the last 30 days, and every\n"
     "record, each language labelled, Arabic right to left, with a filter box\n"
     "that folds words as agora search does (#q=WORDS in the address fills it).\n"
     "Its style, script and charts are inline and its Content-Security-Policy\n"
     "forbids every fetch: it opens offline, from a mail or an intranet, and\n"
     "prints. With --output the file is written whole or not at all."},
    {"schema",
     cmd_schema,
     "what each record type holds",
     "[TYPE | topics | stakeholders]",
     {"TYPE"},
     0,
     1,
     0,
     "Without TYPE, lists the record types. With one, prints each of its fields:\n"
     "its name (* when required), what it holds and its limits, and what it is\n"
     "for; fields of objects and lists are indented under them. agora put and\n"
     "agorad refuse a record that breaks its type's schema, saying where and\n"
     "what. agora schema topics and agora schema stakeholders list the closed\n"
     "vocabularies with their labels in French, English, Spanish, Italian and\n"
     "Arabic. With --json, the same as one document."},
    {"check",
     cmd_check,
     "whether the node is healthy",
     "",
     {NULL},
     0,
     0,
     0,
     "Exits 0 and prints healthy when all is well; else prints one line per problem\n"
     "and exits 1: not ready (its own feed not yet learned from a peer), no peer\n"
     "connected, a peer silent for longer than [Node] SilentAfter (default 1h), the\n"
     "disk of DIR/data nearly full (under 5% or 1 GiB free), the store full or\n"
     "past 90% of [Node] MaxDisk, a forked feed. With\n"
     "--json, {\"problems\": [{\"kind\": ..., \"message\": ...}]}; the kinds are\n"
     "not-ready, no-peer, silent, disk and fork. For monitoring and cron."},
    {"metrics",
     cmd_metrics,
     "the node's counts for Prometheus",
     "",
     {NULL},
     0,
     0,
     0,
     "Prints the node's counts in Prometheus's text format (agora_ prefix), for\n"
     "node_exporter's textfile collector: per peer (labels peer and key) whether\n"
     "connected, last contact, entries and bytes in and out, the lag both ways; and\n"
     "feeds, records, entries, store bytes, uptime, invalid entries refused.\n"
     "contrib/systemd has a timer that writes them every minute."},
    {"backup",
     cmd_backup,
     "a hot copy of the store and config",
     "DEST",
     {"DEST"},
     1,
     1,
     0,
     "Copies the store (consistent and compacted, while agorad runs and serves) and\n"
     "agorad.conf into DEST, which must not exist or be an empty directory: it is\n"
     "laid out as DIR is. agorad writes it, as its own user. node.key is never\n"
     "copied: keep it apart. To restore, see agorad(8)."},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const char *cmd_opt_name(enum cmd_opt o)
{
	return optdefs[o].name;
}

static int find_opt(const char *arg, const char **value);

size_t cmd_opt_values(const struct args *a, enum cmd_opt o, const char **vals, size_t max)
{
	const char *value;
	size_t n = 0;
	int f;

	/* The line was parsed already, so every option here is known and has its value. */
	for (int i = 0; i < a->argc && strcmp(a->argv[i], "--") != 0; i++) {
		if (a->argv[i][0] != '-' || a->argv[i][1] == '\0')
			continue;
		f = find_opt(a->argv[i], &value);
		if (f >= 0 && optdefs[f].arg && !value && i + 1 < a->argc)
			value = a->argv[++i];
		if (f == (int)o && n < max)
			vals[n] = value;
		n += f == (int)o;
	}
	return n;
}

int cmd_fail(const struct args *a, int status, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a && a->cmd)
		out_err("%s: %s", a->cmd->name, msg);
	else
		out_err("%s", msg);
	return status;
}

int cmd_ask(const struct args *a, const struct ag_ctl_req *req, void *resp, char *err,
            size_t errlen)
{
	struct client *c;
	int rc;

	if (!(c = client_open(a->dir, err, errlen))) {
		const struct ag_ctl_shape *s = ag_ctl_resp_shape(req->type);

		if (s)
			memset(resp, 0, s->size);
		return EXIT_UNREACHABLE;
	}
	rc = client_ask(c, req, resp, err, errlen);
	client_close(c);
	return rc;
}

int cmd_call(const struct args *a, const struct ag_ctl_req *req, void *resp)
{
	char err[800];
	int rc = cmd_ask(a, req, resp, err, sizeof(err));

	return rc ? cmd_report(a, rc, err) : 0;
}

int cmd_req_set(const struct args *a, struct ag_ctl_req *r, uint32_t bit, const char *s)
{
	int rc = ag_ctl_req_set(r, bit, s);

	if (rc != 0)
		return cmd_fail(a, EXIT_REFUSED, "bad %s request: %s: %s",
		                ag_ctl_type_name(r->type), ag_ctl_field_name(bit), ag_strerror(rc));
	return 0;
}

int cmd_report(const struct args *a, int rc, const char *err)
{
	/* Not reaching agorad says it all; agorad's refusals are about the command. */
	if (rc == EXIT_UNREACHABLE)
		out_err("%s", err);
	else if (rc != 0)
		cmd_fail(a, rc, "%s", err);
	return rc;
}

int cmd_json(json_t *doc)
{
	int rc = doc ? out_json(doc) : -1;

	json_decref(doc);
	if (rc != 0) {
		out_err("cannot print the JSON document");
		return EXIT_LOCAL;
	}
	return 0;
}

/* "unknown topic \"x\" (one of: a, b, ...)": names[i] gives the choices. */
static int list_fail(const struct args *a, const char *what, const char *val,
                     const char *(*name)(size_t), size_t n)
{
	char list[600] = "";
	size_t len = 0;

	for (size_t i = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
		                        name(i));
	return cmd_fail(a, EXIT_REFUSED, "unknown %s \"%s\" (one of: %s)", what, val, list);
}

static const char *type_name(size_t i)
{
	size_t n;

	return ag_schema_all(&n)[i].type;
}

static const char *topic_name(size_t i)
{
	return ag_topics[i].key;
}

int cmd_check_type(const struct args *a, const char *type)
{
	size_t n;

	if (ag_schema_find(type))
		return 0;
	(void)ag_schema_all(&n);
	return list_fail(a, "record type", type, type_name, n);
}

int cmd_check_read_type(const struct args *a, const char *type)
{
	size_t n;
	const struct ag_schema *all = ag_schema_all(&n);

	/* A near miss of a known type is a typo ("practise"), not a newer release's type. */
	if (ag_rectype_check(type, strlen(type)) == 0 &&
	    !ag_nearest(type, strlen(type), &all[0].type, sizeof(all[0]), n))
		return 0;
	return cmd_check_type(a, type);
}

int cmd_check_topic(const struct args *a, const char *topic)
{
	if (ag_topic_find(topic, strlen(topic)))
		return 0;
	return list_fail(a, "topic", topic, topic_name, AG_TOPIC_COUNT);
}

int cmd_check_key(const struct args *a, const char *what, const char *key)
{
	uint8_t pk[AG_PK_LEN], x[crypto_scalarmult_curve25519_BYTES];

	if (ag_key_from_b64(pk, key) != 0)
		return cmd_fail(
		    a, 2, "bad %s \"%s\": a key is 44 characters of base64, as agora id prints it",
		    what, key);
	/* A key that Noise cannot use would be written to the config and never connect. */
	if (crypto_sign_ed25519_pk_to_curve25519(x, pk) != 0)
		return cmd_fail(a, EXIT_REFUSED, "bad %s \"%s\": not an Ed25519 public key", what,
		                key);
	return 0;
}

int cmd_uint(const struct args *a, enum cmd_opt o, uint64_t *v)
{
	const char *s = a->opt[o];
	char *end;

	errno = 0;
	if (s && *s >= '0' && *s <= '9') {
		unsigned long long n = strtoull(s, &end, 10);

		if (errno == 0 && *end == '\0' && n <= INT64_MAX) {
			*v = n;
			return 0;
		}
	}
	return cmd_fail(a, EXIT_REFUSED, "bad --%s \"%s\": expected a whole number",
	                optdefs[o].name, s ? s : "");
}

/* ---- help ---- */

static void help_options(uint64_t opts)
{
	char left[64];

	out_printf("\nOptions:\n");
	opts |= O(OPT_DIR) | O(OPT_JSON) | O(OPT_HELP);
	for (int o = 0; o < OPT_END; o++) {
		if (!(opts & O(o)))
			continue;
		snprintf(left, sizeof(left), "%s%s--%s%s%s", optdefs[o].shortname ? "-" : "",
		         optdefs[o].shortname ? (char[]){optdefs[o].shortname, ',', ' ', 0} : "",
		         optdefs[o].name, optdefs[o].arg ? " " : "",
		         optdefs[o].arg ? optdefs[o].arg : "");
		out_printf("  %-22s %s\n", left, optdefs[o].help);
	}
}

static void help_command(const struct command *c)
{
	out_printf("usage: agora [--dir DIR] [--json] %s%s%s\n\n%s\n", c->name,
	           *c->synopsis ? " " : "", c->synopsis, c->help);
	help_options(c->opts);
}

static void help_topics(void)
{
	out_printf("Topics (a closed vocabulary; French / English / Arabic labels):\n");
	for (size_t i = 0; i < AG_TOPIC_COUNT; i++)
		out_printf("  %-15s %s\n", ag_topics[i].key, ag_topics[i].label);
}

static void help_stakeholders(void)
{
	out_printf("Stakeholders (a closed vocabulary; French / English / Arabic labels):\n");
	for (size_t i = 0; i < AG_STAKEHOLDER_COUNT; i++)
		out_printf("  %-26s %s\n", ag_stakeholders[i].key, ag_stakeholders[i].label);
}

static void help_types(void)
{
	size_t n;
	const struct ag_schema *all = ag_schema_all(&n);

	out_printf("Record types (agora schema TYPE shows the fields of each):\n");
	for (size_t i = 0; i < n; i++)
		out_printf("  %-10s %s\n", all[i].type, all[i].help);
}

static void help_all(void)
{
	out_printf("usage: agora [--dir DIR] [--json] COMMAND [ARGS]\n\n"
	           "agora is the city staff's tool for the local agorad node.\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		out_printf("  %-16s %s\n", commands[i].name, commands[i].summary);
	out_printf("  %-16s %s\n", "help",
	           "help on a command, or on topics, stakeholders or types");
	out_printf("\nOptions, before or after the command:\n"
	           "  --dir DIR      the node's directory (default: $AGORA_DIR, else "
	           "/var/lib/agora)\n"
	           "  --json         print one JSON document instead of text\n"
	           "  -h, --help     show help\n"
	           "  --version      show agora's version\n"
	           "\nExit status: 0 done; 1 not found; 2 usage or input refused; 3 agorad "
	           "unreachable;\n4 the node failed (its log says why).\n"
	           "See agora help COMMAND, and agora(1).\n");
}

/* ---- parsing ---- */

/* The command named by argv[0] (and argv[1] for two words); *used says how many. */
static const struct command *find_command(int argc, char **argv, int *used)
{
	size_t n0 = strlen(argv[0]);

	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *name = commands[i].name, *sp = strchr(name, ' ');

		if (!sp && strcmp(name, argv[0]) == 0) {
			*used = 1;
			return &commands[i];
		}
		if (sp && (size_t)(sp - name) == n0 && strncmp(name, argv[0], n0) == 0 &&
		    argc > 1 && strcmp(sp + 1, argv[1]) == 0) {
			*used = 2;
			return &commands[i];
		}
	}
	return NULL;
}

/*
 * The command word nearest to word (near.h), or NULL: the words of the table's
 * names from byte skip on (0: first words, "peer" of "peer add"; past a group
 * and its space: that group's second words).
 */
static const char *nearest_word(const char *word, size_t skip, const char *group)
{
	static char words[NCOMMANDS + 1][32];
	const char *cands[NCOMMANDS + 1];
	size_t n = 0, len;

	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *name = commands[i].name;

		if (group && (strncmp(name, group, skip - 1) != 0 || name[skip - 1] != ' '))
			continue;
		len = strcspn(name + skip, " ");
		snprintf(words[n], sizeof(words[n]), "%.*s", (int)len, name + skip);
		cands[n] = words[n];
		n++;
	}
	if (!group)
		cands[n++] = "help";
	return ag_nearest(word, strlen(word), cands, sizeof(cands[0]), n);
}

static int unknown_command(const char *word)
{
	const char *near = nearest_word(word, 0, NULL);

	if (near)
		out_err("unknown command \"%s\"; did you mean \"%s\"? (see agora help)", word,
		        near);
	else
		out_err("unknown command \"%s\" (see agora help)", word);
	return EXIT_REFUSED;
}

/* "peer" alone, or "peer frob": the group's words, so the message can list them. */
static int group_fail(const char *group, const char *sub)
{
	const char *near;
	char subs[128] = "";
	size_t gl = strlen(group), len = 0;

	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strncmp(commands[i].name, group, gl) == 0 && commands[i].name[gl] == ' ')
			len += (size_t)snprintf(subs + len, sizeof(subs) - len, "%s%s",
			                        len ? ", " : "", commands[i].name + gl + 1);
	if (!len)
		return -1;
	if (sub && (near = nearest_word(sub, gl + 1, group)))
		out_err("%s: unknown subcommand \"%s\"; did you mean \"%s %s\"?", group, sub, group,
		        near);
	else if (sub)
		out_err("%s: unknown subcommand \"%s\" (one of: %s)", group, sub, subs);
	else
		out_err("%s: missing subcommand (one of: %s)", group, subs);
	return EXIT_REFUSED;
}

static int find_opt(const char *arg, const char **value)
{
	size_t n;

	*value = NULL;
	if (arg[1] != '-') {
		for (int o = 0; o < OPT_END; o++)
			if (optdefs[o].shortname && arg[1] == optdefs[o].shortname && !arg[2])
				return o;
		return -1;
	}
	n = strcspn(arg + 2, "=");
	if (arg[2 + n] == '=')
		*value = arg + 3 + n;
	for (int o = 0; o < OPT_END; o++)
		if (strlen(optdefs[o].name) == n && strncmp(optdefs[o].name, arg + 2, n) == 0)
			return o;
	return -1;
}

/* One option at argv[*i]: its value from "--x=v" or the next argument. 0 or 2. */
static int parse_opt(struct args *a, uint64_t allowed, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *value;
	int o = find_opt(arg, &value);

	if (o < 0 || !(allowed & O(o)))
		return cmd_fail(a, EXIT_REFUSED, "unknown option %s (see agora help%s%s)", arg,
		                a->cmd ? " " : "", a->cmd ? a->cmd->name : "");
	if (!optdefs[o].arg && value)
		return cmd_fail(a, EXIT_REFUSED, "option --%s takes no value", optdefs[o].name);
	if (optdefs[o].arg && !value) {
		if (*i + 1 >= argc)
			return cmd_fail(a, EXIT_REFUSED, "option --%s needs a value: --%s %s",
			                optdefs[o].name, optdefs[o].name, optdefs[o].arg);
		value = argv[++*i];
	}
	a->opt[o] = value ? value : "";
	return 0;
}

/* A command's own arguments, options anywhere among them; "--" ends the options. */
static int parse_command(struct args *a, int argc, char **argv)
{
	const struct command *c = a->cmd;
	uint64_t allowed = c->opts | O(OPT_DIR) | O(OPT_JSON) | O(OPT_HELP);
	bool dashdash = false;
	int rc;

	a->argv = argv;
	a->argc = argc;
	for (int i = 0; i < argc; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0) {
			dashdash = true;
		} else if (!dashdash && argv[i][0] == '-' && argv[i][1] != '\0') {
			if ((rc = parse_opt(a, allowed, argc, argv, &i)) != 0)
				return rc;
		} else if (a->npos == c->max_pos) {
			return cmd_fail(a, EXIT_REFUSED,
			                "unexpected argument \"%s\" (usage: agora %s %s)", argv[i],
			                c->name, c->synopsis);
		} else {
			a->pos[a->npos++] = argv[i];
		}
	}
	if (a->opt[OPT_HELP] || a->npos >= c->min_pos)
		return 0;
	return cmd_fail(a, EXIT_REFUSED, "missing %s (usage: agora %s %s)", c->pos_names[a->npos],
	                c->name, c->synopsis);
}

static int run_help(int argc, char **argv)
{
	int used;
	const struct command *c;

	if (argc == 0) {
		help_all();
		return 0;
	}
	if (strcmp(argv[0], "topics") == 0 || strcmp(argv[0], "topic") == 0) {
		help_topics();
		return 0;
	}
	if (strcmp(argv[0], "stakeholders") == 0 || strcmp(argv[0], "stakeholder") == 0) {
		help_stakeholders();
		return 0;
	}
	if (strcmp(argv[0], "types") == 0 || strcmp(argv[0], "type") == 0) {
		help_types();
		return 0;
	}
	if (!(c = find_command(argc, argv, &used))) {
		size_t gl = strlen(argv[0]);
		bool group = false;

		for (size_t i = 0; argc == 1 && i < NCOMMANDS; i++)
			group |= strncmp(commands[i].name, argv[0], gl) == 0 &&
			         commands[i].name[gl] == ' ';
		if (group) {
			for (size_t i = 0; i < NCOMMANDS; i++)
				if (strncmp(commands[i].name, argv[0], gl) == 0 &&
				    commands[i].name[gl] == ' ')
					out_printf("agora %s %s\n  %s\n", commands[i].name,
					           commands[i].synopsis, commands[i].summary);
			return 0;
		}
		out_err("help: unknown command \"%s\" (see agora help)", argv[0]);
		return EXIT_REFUSED;
	}
	help_command(c);
	return 0;
}

/* Global options before the command; returns the index of the command, or -1 done (*rc). */
static int parse_global(struct args *a, int argc, char **argv, int *rc)
{
	int i;

	*rc = 0;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			out_printf("agora %s\n", AGORA_VERSION);
			return -1;
		}
		if ((*rc = parse_opt(a, O(OPT_DIR) | O(OPT_JSON) | O(OPT_HELP), argc, argv, &i)) !=
		    0)
			return -1;
	}
	if (a->opt[OPT_HELP]) {
		*rc = run_help(argc - i, argv + i);
		return -1;
	}
	if (i == argc) {
		out_err("no command given (see agora help)");
		*rc = EXIT_REFUSED;
		return -1;
	}
	return i;
}

static void set_dir(struct args *a)
{
	const char *env = getenv("AGORA_DIR");

	a->dir = a->opt[OPT_DIR] && *a->opt[OPT_DIR] ? a->opt[OPT_DIR]
	         : env && *env                       ? env
	                                             : CMD_DIR_DEFAULT;
	a->json = a->opt[OPT_JSON] != NULL;
}

int cmd_main(int argc, char **argv)
{
	struct args a = {0};
	int i, used = 0, rc;

	if ((i = parse_global(&a, argc, argv, &rc)) < 0)
		return rc;
	if (strcmp(argv[i], "help") == 0)
		return run_help(argc - i - 1, argv + i + 1);
	if (!(a.cmd = find_command(argc - i, argv + i, &used))) {
		if ((rc = group_fail(argv[i], i + 1 < argc ? argv[i + 1] : NULL)) >= 0)
			return rc;
		return unknown_command(argv[i]);
	}
	if ((rc = parse_command(&a, argc - i - used, argv + i + used)) != 0)
		return rc;
	if (a.opt[OPT_HELP]) {
		help_command(a.cmd);
		return 0;
	}
	set_dir(&a);
	rc = a.cmd->fn(&a);
	if (fflush(out_file()) != 0 && errno != EPIPE)
		rc = cmd_fail(&a, 3, "cannot write the output: %s", strerror(errno));
	return rc;
}

/* report_assets.h: the report page's style and script, cli/report.css and cli/report.js as strings.
 */
#ifndef AGORA_REPORT_ASSETS_H
#define AGORA_REPORT_ASSETS_H

extern const char report_css[];
extern const char report_js[];

#endif

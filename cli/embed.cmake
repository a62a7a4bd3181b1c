# embed.cmake: writes OUT, a C file holding the report's style (CSS) and
# script (JS) as strings, so that agora carries them and each stays a file
# of its own, read and linted as what it is. Run by CMakeLists.txt.
function(embed var file)
	file(READ ${file} hex HEX)
	string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
	file(APPEND ${OUT} "const char ${var}[] = {${hex}0};\n")
endfunction()
file(WRITE ${OUT} "/* Made by cli/embed.cmake from cli/report.css and cli/report.js: do not edit. */\n"
	"#include \"report_assets.h\"\n")
embed(report_css ${CSS})
embed(report_js ${JS})

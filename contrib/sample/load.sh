#!/usr/bin/env bash
# load.sh: publishes one sample city's records into a running agora node.
#
#   contrib/sample/load.sh [--records | --comments] DIR CITY
#
# DIR is the node's directory (agora --dir), CITY a slug of cities.tsv
# (valmoreuil, qasr-yasmina, ...). Each file CITY/TYPE.ID.json becomes the
# record TYPE ID, published with `agora --dir DIR put TYPE ID --file FILE`.
# --records loads all but the comments, --comments only the comments; the
# default is both, records first. A comment names the city it answers as
# "@slug"; it is replaced by that city's key as DIR knows it, so the answered
# record must have reached DIR first (load every city's records, let them
# replicate, then the comments). AGORA names the agora program (default: agora).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
agora=${AGORA:-agora}
what=all
case ${1:-} in
--records) what=records; shift ;;
--comments) what=comments; shift ;;
esac
if [ $# != 2 ] || [ ! -d "$here/$2" ]; then
	echo "usage: $0 [--records | --comments] DIR CITY, CITY one of:" $(cut -f1 "$here/cities.tsv" | grep -v '^#') >&2
	exit 2
fi
dir=$1 city=$2

# The name a sample city's node goes by: cities.tsv's second column.
city_name() { awk -F'\t' -v s="$1" '$1 == s { print $2 }' "$here/cities.tsv"; }

# put_comment FILE TYPE ID: the comment with its "@slug" replaced by the key of
# the city that wrote the record it answers, as DIR resolves that city's name.
put_comment() {
	local file=$1 type=$2 id=$3 target ttype tid name rec
	read -r target ttype tid < <(python3 -c '
import json, sys
on = json.load(open(sys.argv[1], encoding="utf-8"))["on"]
print(on["author"].lstrip("@"), on["type"], on["id"])' "$file")
	name=$(city_name "$target")
	[ -n "$name" ] || { echo "load.sh: $file: no city \"$target\" in cities.tsv" >&2; return 2; }
	if ! rec=$("$agora" --dir "$dir" --json get "$ttype" "$tid" --city "$name" 2>&1); then
		echo "load.sh: $file answers $name's $ttype $tid, which $dir does not have yet: $rec" >&2
		return 1
	fi
	python3 -c '
import json, sys
body = json.load(open(sys.argv[1], encoding="utf-8"))
body["on"]["author"] = json.loads(sys.argv[2])["author"]
json.dump(body, sys.stdout, ensure_ascii=False)' "$file" "$rec" |
		"$agora" --dir "$dir" put "$type" "$id" >/dev/null
}

n=0
for file in "$here/$city"/*.json; do
	base=${file##*/}
	base=${base%.json}
	type=${base%%.*} id=${base#*.}
	if [ "$type" = comment ]; then
		[ "$what" = records ] && continue
		put_comment "$file" "$type" "$id" ||
			{ rc=$?; echo "load.sh: $file: not published" >&2; exit $rc; }
	else
		[ "$what" = comments ] && continue
		"$agora" --dir "$dir" put "$type" "$id" --file "$file" >/dev/null ||
			{ rc=$?; echo "load.sh: $file: not published (agora exit $rc)" >&2; exit $rc; }
	fi
	n=$((n + 1))
done
echo "$(city_name "$city"): $n record$([ $n = 1 ] || echo s) published"

# bash completion for agora(1): commands, their options, record types, topics,
# and city names and keys from the node's config.
# Installed as /usr/share/bash-completion/completions/agora.

_agora_types="profile priority practice pilot toolbox meeting comment member"
_agora_topics="housing health education employment urban-planning exchange understanding
governance ownership inclusion leadership rights services"
_agora_stakeholders="national-authorities city-administration civil-society academia
private-sector international-organisation"
_agora_commands="init id status sync peer fork put get list search retract history log show practice
profile pilot comment export schema edit news report check metrics backup compact key recover cert
help"

# The --dir given on the line, else $AGORA_DIR, else the default.
_agora_dir() {
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		if [[ ${COMP_WORDS[i]} == --dir ]]; then
			echo "${COMP_WORDS[i + 1]}"
			return
		fi
		if [[ ${COMP_WORDS[i]} == --dir=* ]]; then
			echo "${COMP_WORDS[i]#--dir=}"
			return
		fi
	done
	echo "${AGORA_DIR:-/var/lib/agora}"
}

# Peer names and keys from the config, when it can be read.
_agora_cities() {
	local conf
	conf="$(_agora_dir)/agorad.conf"
	[[ -r $conf ]] || return
	sed -nE 's/^[[:space:]]*(Name|PublicKey)[[:space:]]*=[[:space:]]*(.*[^[:space:]])[[:space:]]*$/\2/Ip' "$conf"
}

_agora() {
	local cur prev cmd="" sub="" i w opts
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	# The command: the first word that is neither an option nor an option's value.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--dir) ((i++)) ;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd=$w
			elif [[ $cmd == @(peer|fork|practice|profile|pilot|key|cert|help) ]] && [[ -z $sub ]]; then
				sub=$w
			fi
			;;
		esac
	done

	case $prev in
	--dir)
		compopt -o dirnames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--file | --recovery-key)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--type)
		COMPREPLY=($(compgen -W "$_agora_types" -- "$cur"))
		return
		;;
	--topic)
		COMPREPLY=($(compgen -W "$_agora_topics" -- "$cur"))
		return
		;;
	--city)
		local IFS=$'\n'
		COMPREPLY=($(compgen -W "$(_agora_cities)" -- "$cur"))
		return
		;;
	--stakeholder)
		COMPREPLY=($(compgen -W "$_agora_stakeholders" -- "$cur"))
		return
		;;
	--format)
		COMPREPLY=($(compgen -W "json csv md" -- "$cur"))
		return
		;;
	--role)
		COMPREPLY=($(compgen -W "partner associate" -- "$cur"))
		return
		;;
	--output | -o)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--since)
		[[ $cmd == news ]] && COMPREPLY=($(compgen -W "last" -- "$cur"))
		return
		;;
	--name | --listen | --endpoint | --limit | --id | --title | --summary | --old-key | \
		--description | --year | --results | --contact | --link | --lang | --date | --done)
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--dir --json --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_agora_commands" -- "$cur"))
		fi
		return
	fi

	case $cmd in
	init) opts="--name --listen" ;;
	peer)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "add remove list log" -- "$cur"))
			return
		fi
		case $sub in
		add) opts="--name --endpoint --role" ;;
		remove)
			if [[ $cur != -* ]]; then
				local IFS=$'\n'
				COMPREPLY=($(compgen -W "$(_agora_cities)" -- "$cur"))
				return
			fi
			;;
		esac
		;;
	fork)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "list" -- "$cur"))
			return
		fi
		;;
	put) opts="--file --force" ;;
	key)
		[[ -z $sub ]] && COMPREPLY=($(compgen -W "rotate new" -- "$cur"))
		[[ -z $sub ]] && return
		;;
	recover) opts="--recovery-key --output --old-key" ;;
	cert)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "import" -- "$cur"))
			return
		fi
		if [[ $cur != -* ]]; then
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
			return
		fi
		;;
	get | history) opts="--city" ;;
	list) opts="--all --type --city --topic --lang --limit" ;;
	search) opts="--type --city --topic --lang --limit" ;;
	retract) opts="--purge --force" ;;
	log) opts="--city --since --limit" ;;
	show) opts="--city" ;;
	comment) opts="--city --lang" ;;
	export) opts="--format --city --type --output" ;;
	report) opts="--output" ;;
	sync)
		[[ $prev == --timeout ]] && return
		opts="--wait --timeout"
		;;
	backup)
		if [[ $cur != -* ]]; then
			compopt -o dirnames 2>/dev/null
			COMPREPLY=($(compgen -d -- "$cur"))
			return
		fi
		;;
	news)
		if [[ $prev == --since ]]; then
			COMPREPLY=($(compgen -W "last $(date -u +%Y-%m-%d)" -- "$cur"))
			return
		fi
		opts="--since"
		;;
	edit)
		if [[ $cur != -* ]] && [[ $prev == edit ]]; then
			COMPREPLY=($(compgen -W "$_agora_types" -- "$cur"))
			return
		fi
		;;
	schema)
		if [[ $cur != -* ]]; then
			COMPREPLY=($(compgen -W "$_agora_types topics stakeholders" -- "$cur"))
			return
		fi
		;;
	practice | profile | pilot)
		if [[ -z $sub ]]; then
			case $cmd in
			practice) COMPREPLY=($(compgen -W "add" -- "$cur")) ;;
			profile) COMPREPLY=($(compgen -W "set show" -- "$cur")) ;;
			pilot) COMPREPLY=($(compgen -W "milestone status" -- "$cur")) ;;
			esac
			return
		fi
		case $cmd/$sub in
		practice/add) opts="--title --topic --summary --id --description --stakeholder --year
			--results --contact --link --lang --replace" ;;
		profile/set) opts="--lang" ;;
		profile/show) opts="--city" ;;
		pilot/milestone) opts="--date --done --lang" ;;
		esac
		;;
	help)
		[[ -z $sub ]] && COMPREPLY=($(compgen -W "$_agora_commands topics types" -- "$cur"))
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts --dir --json --help" -- "$cur"))
		return
	fi
	# The record type is the first argument of the record commands.
	case $cmd in
	put | get | list | retract | history | show | comment)
		local nargs=0
		for ((i = 1; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			--dir | --file | --city | --topic | --type | --limit) ((i++)) ;;
			-*) ;;
			*) ((nargs++)) ;;
			esac
		done
		((nargs == 1)) && COMPREPLY=($(compgen -W "$_agora_types" -- "$cur"))
		;;
	esac
}

complete -F _agora agora

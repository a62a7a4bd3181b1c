#include "error.h"

static const char *const ag_errors[] = {
    [0] = "success",
    [-AG_ENOMEM] = "out of memory",
    [-AG_EINVAL] = "invalid argument",
    [-AG_ETRUNC] = "truncated input",
    [-AG_ETRAILING] = "trailing bytes after the value",
    [-AG_ETOOBIG] = "too large",
    [-AG_ENONCANON] = "non-canonical encoding",
    [-AG_EDEPTH] = "nested too deep",
    [-AG_EUTF8] = "invalid UTF-8 in a string",
    [-AG_EKEYORDER] = "map keys not unique sorted strings",
    [-AG_EEXT] = "ext type or float 32 not allowed",
    [-AG_ESHAPE] = "wrong type or number of fields",
    [-AG_EVERSION] = "unknown version",
    [-AG_ENETWORK] = "entry belongs to another network",
    [-AG_ESIG] = "bad signature",
    [-AG_ESEQ] = "seq out of order or inconsistent with prev",
    [-AG_EPREV] = "prev hash does not match the previous entry",
    [-AG_ERECTYPE] = "bad record type",
    [-AG_ERECID] = "bad record id",
    [-AG_EBODY] = "body is neither a map nor nil",
    [-AG_EMAC] = "authentication failed",
    [-AG_ENONCE] = "nonce exhausted",
    [-AG_ESTATE] = "operation out of order",
    [-AG_EKEY] = "malformed key",
    [-AG_ESCHEMA] = "record does not match its schema",
    [-AG_EMSG] = "malformed message",
    [-AG_EFORK] = "fork: a different entry exists at this seq",
    [-AG_EGAP] = "entries missing before this one",
    [-AG_EFLOAT] = "float is NaN or infinite",
    [-AG_EBODYHASH] = "body does not match its header's hash or length",
};

const char *ag_strerror(int code)
{
	if (code > 0 || code <= AG_ELAST || !ag_errors[-code])
		return "unknown error";
	return ag_errors[-code];
}

/* error.h: the error codes of proto. Every proto function returns 0 or one of these. */
#ifndef AGORA_ERROR_H
#define AGORA_ERROR_H

#define AG_WUR __attribute__((warn_unused_result))

enum {
	AG_OK = 0,
	AG_ENOMEM = -1,     /* out of memory */
	AG_EINVAL = -2,     /* bad argument from the caller */
	AG_ETRUNC = -3,     /* input ends too early */
	AG_ETRAILING = -4,  /* bytes after the end of the value */
	AG_ETOOBIG = -5,    /* over a size limit */
	AG_ENONCANON = -6,  /* not in canonical (shortest) form */
	AG_EDEPTH = -7,     /* nested too deep */
	AG_EUTF8 = -8,      /* string is not valid UTF-8 */
	AG_EKEYORDER = -9,  /* map keys unsorted, duplicated or not strings */
	AG_EEXT = -10,      /* ext type or float 32 */
	AG_ESHAPE = -11,    /* wrong type or count of elements */
	AG_EVERSION = -12,  /* unknown format or protocol version */
	AG_ENETWORK = -13,  /* entry of another network */
	AG_ESIG = -14,      /* signature does not verify */
	AG_ESEQ = -15,      /* seq out of order, or prev inconsistent with seq */
	AG_EPREV = -16,     /* prev hash does not match the previous entry */
	AG_ERECTYPE = -17,  /* record type not [a-z-]{1,32} */
	AG_ERECID = -18,    /* record id empty, too long or with control characters */
	AG_EBODY = -19,     /* body neither map nor nil */
	AG_EMAC = -20,      /* authentication tag does not match */
	AG_ENONCE = -21,    /* nonce exhausted */
	AG_ESTATE = -22,    /* call out of order for this state */
	AG_EKEY = -23,      /* malformed key */
	AG_ESCHEMA = -24,   /* record does not match its type's schema */
	AG_EMSG = -25,      /* malformed protocol or control message */
	AG_EFORK = -26,     /* a second entry at an author's seq */
	AG_EGAP = -27,      /* entries missing before this one */
	AG_EFLOAT = -28,    /* a float that is NaN or infinite: JSON cannot carry it */
	AG_EBODYHASH = -29, /* a body whose hash or length is not its header's */
	AG_ELAST = -30
};

/* Words for an error code; never NULL. */
const char *ag_strerror(int code);

#endif

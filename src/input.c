/*
 * input.c: the rules on input from SPEC.md, one check per kind of argument.
 *
 * Each check raises the SPEC.md SQLSTATE with a lower-case message that says
 * what was wrong, and never echoes the value back.
 */
#include "copass.h"

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "common/unicode_norm.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#define NAME_MAX_CHARS 255
/* NFC composes at most 4 code points of at most 4 bytes into one character */
#define NAME_MAX_INPUT_BYTES (NAME_MAX_CHARS * 16)

static inline void
invalid_argument(const char *message, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", message),
			 detail ? errdetail("%s", detail) : 0));
}

static void
name_too_long(const char *field)
{
	ereport(ERROR,
			(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
			 errmsg("%s is longer than %d characters", field, NAME_MAX_CHARS)));
}

/* NULL where the argument has no default meaning is an invalid argument */
void
copass_check_not_null(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be null", argname)));
}

/*
 * Control characters: C0, DEL, C1, the line and paragraph separators, and the
 * invisible format characters that can disguise a name (zero-width and
 * bidirectional controls, soft hyphen, byte order mark).
 */
static inline bool
is_control(pg_wchar c)
{
	return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0xAD || c == 0x061C ||
		c == 0x180E || (c >= 0x200B && c <= 0x200F) || (c >= 0x2028 && c <= 0x202E) ||
		(c >= 0x2060 && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB);
}

/* Unicode White_Space that is not a control, and characters that render blank */
static inline bool
is_space(pg_wchar c)
{
	return c == 0x20 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
		c == 0x202F || c == 0x205F || c == 0x3000 ||
		c == 0x034F || c == 0x115F || c == 0x1160 || c == 0x2800 || c == 0x3164 || c == 0xFFA0;
}

/*
 * A name or label in Unicode NFC form, 1 to 255 characters, neither
 * whitespace-only nor holding control characters.  Returns the text to store;
 * field names the argument in error messages.
 */
text *
copass_check_name(text *name, const char *field)
{
	const char *bytes = VARDATA_ANY(name);
	int			nbytes = VARSIZE_ANY_EXHDR(name);
	pg_wchar   *chars;
	int			nchars;
	bool		only_space = true;
	bool		ascii = true;

	if (nbytes == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", field)));
	if (nbytes > NAME_MAX_INPUT_BYTES)
		name_too_long(field);

	for (int i = 0; i < nbytes && ascii; i++)
		ascii = !IS_HIGHBIT_SET(bytes[i]);
	if (!ascii && GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a %s with non-ASCII characters needs a UTF8 database", field)));

	chars = palloc((nbytes + 1) * sizeof(pg_wchar));
	nchars = pg_mb2wchar_with_len(bytes, chars, nbytes);
	if (!ascii && unicode_is_normalized_quickcheck(UNICODE_NFC, chars) != UNICODE_NORM_QC_YES)
	{
		pg_wchar   *normalized = unicode_normalize(UNICODE_NFC, chars);
		char	   *out;
		int			outlen;

		if (normalized == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		for (nchars = 0; normalized[nchars] != 0; nchars++)
			;
		out = palloc(nchars * MAX_MULTIBYTE_CHAR_LEN + 1);
		outlen = pg_wchar2mb_with_len(normalized, out, nchars);
		pfree(chars);
		chars = normalized;
		name = cstring_to_text_with_len(out, outlen);
	}

	if (nchars > NAME_MAX_CHARS)
		name_too_long(field);
	for (int i = 0; i < nchars; i++)
	{
		if (is_control(chars[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not contain control characters", field)));
		only_space = only_space && is_space(chars[i]);
	}
	if (only_space)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be only whitespace", field)));
	return name;
}

/* metadata: a JSON object of at most copass.max_metadata_bytes as text */
void
copass_check_metadata(Jsonb *metadata)
{
	char	   *as_text;

	if (!JB_ROOT_IS_OBJECT(metadata))
		invalid_argument("metadata must be a JSON object", NULL);
	as_text = JsonbToCString(NULL, &metadata->root, VARSIZE(metadata));
	if (strlen(as_text) > (size_t) copass_max_metadata_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metadata is larger than %d bytes", copass_max_metadata_bytes),
				 errhint("The limit is the setting copass.max_metadata_bytes.")));
	pfree(as_text);
}

/* Does the string of len bytes (not NUL-terminated) start (or end) with affix? */
static inline bool
has_affix(const char *str, int len, const char *affix, bool start)
{
	int			n = strlen(affix);

	return len >= n && memcmp(start ? str : str + len - n, affix, n) == 0;
}

/* An S3 bucket name: 3-63 of [a-z0-9.-], alphanumeric at both ends, no "..", not an IPv4 address */
static bool
valid_bucket(const char *bucket, int len)
{
	bool		ipv4_shape = true;
	int			dots = 0;

	if (len < 3 || len > 63)
		return false;
	if (!isalnum((unsigned char) bucket[0]) || !isalnum((unsigned char) bucket[len - 1]))
		return false;
	for (int i = 0; i < len; i++)
	{
		char		c = bucket[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return false;
		if (c == '.' && i + 1 < len && bucket[i + 1] == '.')
			return false;
		dots += c == '.';
		ipv4_shape = ipv4_shape && (c == '.' || (c >= '0' && c <= '9'));
	}
	if (ipv4_shape && dots == 3)
		return false;
	return !has_affix(bucket, len, "xn--", true) && !has_affix(bucket, len, "sthree-", true) &&
		!has_affix(bucket, len, "-s3alias", false) && !has_affix(bucket, len, "--ol-s3", false);
}

/* A region: 1-63 of [a-z0-9-] */
static bool
valid_region(const char *region, int len)
{
	if (len < 1 || len > 63)
		return false;
	for (int i = 0; i < len; i++)
		if (!((region[i] >= 'a' && region[i] <= 'z') ||
			  (region[i] >= '0' && region[i] <= '9') || region[i] == '-'))
			return false;
	return true;
}

/* An endpoint: an http(s) URL without user information (which would be a credential) */
static bool
valid_endpoint(const char *endpoint, int len)
{
	if (len > 1024 || memchr(endpoint, '@', len) != NULL)
		return false;
	return (len > 8 && has_affix(endpoint, len, "https://", true)) ||
		(len > 7 && has_affix(endpoint, len, "http://", true));
}

/* Does a key name look like a credential (secret, password, access key, token)? */
static bool
looks_like_credential(const char *key, int len)
{
	static const char *const words[] = {"secret", "password", "passwd", "accesskey",
	"token", "credential", "apikey", "privatekey"};
	char	   *folded = palloc(len + 1);
	int			n = 0;

	for (int i = 0; i < len; i++)
		if (isalnum((unsigned char) key[i]))
			folded[n++] = pg_ascii_tolower((unsigned char) key[i]);
	folded[n] = '\0';
	for (int i = 0; i < lengthof(words); i++)
		if (strstr(folded, words[i]) != NULL)
			return true;
	return false;
}

/*
 * storage_config for the chosen provider: NULL for platform_s3; for custom_s3
 * an object {bucket, region, endpoint?, prefix?} of strings, no other keys,
 * and never credentials.
 */
void
copass_check_storage(bool custom_s3, Jsonb *config)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken token;
	bool		have_bucket = false;
	bool		have_region = false;

	if (!custom_s3)
	{
		if (config != NULL)
			invalid_argument("storage_config must be null for storage_provider_type platform_s3", NULL);
		return;
	}
	if (config == NULL || !JB_ROOT_IS_OBJECT(config))
		invalid_argument("storage_config must be a JSON object for storage_provider_type custom_s3",
						 "It takes the keys bucket and region, and optionally endpoint and prefix.");

	/* credentials first, so that no other mistake hides that they are refused */
	it = JsonbIteratorInit(&config->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		if (token == WJB_KEY && looks_like_credential(v.val.string.val, v.val.string.len))
			invalid_argument("storage_config must not hold credentials",
							 "Credentials are never stored; grant the platform access to the bucket instead.");

	it = JsonbIteratorInit(&config->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;
		int			keylen;

		if (token != WJB_KEY)
			continue;
		key = v.val.string.val;
		keylen = v.val.string.len;
		token = JsonbIteratorNext(&it, &v, true);
		if (keylen == 6 && memcmp(key, "bucket", 6) == 0)
		{
			if (v.type != jbvString || !valid_bucket(v.val.string.val, v.val.string.len))
				invalid_argument("storage_config.bucket is not a valid S3 bucket name",
								 "Use 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit.");
			have_bucket = true;
		}
		else if (keylen == 6 && memcmp(key, "region", 6) == 0)
		{
			if (v.type != jbvString || !valid_region(v.val.string.val, v.val.string.len))
				invalid_argument("storage_config.region is not a valid region", NULL);
			have_region = true;
		}
		else if (keylen == 8 && memcmp(key, "endpoint", 8) == 0)
		{
			if (v.type != jbvString || !valid_endpoint(v.val.string.val, v.val.string.len))
				invalid_argument("storage_config.endpoint is not a valid endpoint",
								 "Use an http:// or https:// URL of at most 1024 bytes, without user or password.");
		}
		else if (keylen == 6 && memcmp(key, "prefix", 6) == 0)
		{
			if (v.type != jbvString || v.val.string.len == 0 || v.val.string.len > 1024)
				invalid_argument("storage_config.prefix must be a string of 1 to 1024 bytes", NULL);
		}
		else
			invalid_argument("storage_config has an unknown key",
							 "The keys are bucket, region, endpoint and prefix.");
	}
	if (!have_bucket || !have_region)
		invalid_argument("storage_config needs bucket and region", NULL);
}

/* page_size: 1 to 1000 */
void
copass_check_page_size(int32 page_size)
{
	if (page_size < 1 || page_size > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("page_size must be between 1 and 1000")));
}

/* Is this enum value the one labelled `label`? */
bool
copass_enum_is(Datum value, const char *label)
{
	HeapTuple	tup = SearchSysCache1(ENUMOID, value);
	bool		is;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "copass: unknown enum value %u", DatumGetObjectId(value));
	is = strcmp(NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel), label) == 0;
	ReleaseSysCache(tup);
	return is;
}

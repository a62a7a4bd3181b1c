#include <sodium.h>
#include <string.h>

#include "key.h"

int ag_init(void)
{
	return sodium_init() < 0 ? AG_ENOMEM : 0;
}

void ag_key_generate(uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN])
{
	crypto_sign_keypair(pk, sk);
}

void ag_key_from_seed(uint8_t pk[static AG_PK_LEN], uint8_t sk[static AG_SK_LEN],
                      const uint8_t seed[static 32])
{
	crypto_sign_seed_keypair(pk, sk, seed);
}

void ag_key_to_b64(char out[static AG_B64_LEN + 1], const uint8_t pk[static AG_PK_LEN])
{
	sodium_bin2base64(out, AG_B64_LEN + 1, pk, AG_PK_LEN, sodium_base64_VARIANT_ORIGINAL);
}

int ag_key_from_b64(uint8_t pk[static AG_PK_LEN], const char *s)
{
	size_t n = 0;
	const char *end = NULL;

	if (strlen(s) != AG_B64_LEN)
		return AG_EKEY;
	if (sodium_base642bin(pk, AG_PK_LEN, s, AG_B64_LEN, NULL, &n, &end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != AG_PK_LEN || end != s + AG_B64_LEN)
		return AG_EKEY;
	return 0;
}

void ag_network_default(uint8_t id[static 32])
{
	static const char name[] = "agora/mc2cm/1";

	crypto_generichash(id, 32, (const uint8_t *)name, sizeof(name) - 1, NULL, 0);
}

/*
 * checksum.h — CRC-32C (Castagnoli, reflected, polynomial 0x82F63B78), for the integrity of
 * records on local disk. Not a MAC: it detects torn and corrupted writes, not tampering.
 */
#ifndef LOGFLUX_CHECKSUM_H
#define LOGFLUX_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Running CRC: start with crc = 0 and feed the pieces in order;
 * lf_crc32c(0, "123456789", 9) == 0xE3069283. Hardware-accelerated where the CPU allows. */
uint32_t lf_crc32c(uint32_t crc, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif

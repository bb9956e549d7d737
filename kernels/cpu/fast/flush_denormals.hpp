// Floating-point mode of the calling thread for bf16 work: denormal inputs
// read as zero and denormal results flush to zero, as AVX512-BF16's
// vdpbf16ps treats them, so that the fp32 emulation of bf16 arithmetic gives
// its bits (ESPCN_PRECISION_BF16). The caller's mode is restored on scope exit.
#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace espcn::fast {

class FlushDenormals {
public:
    explicit FlushDenormals(bool on) : on_(on) {
        if (!on_) return;
#if defined(__x86_64__) || defined(__i386__)
        saved_ = _mm_getcsr();
        _mm_setcsr(saved_ | 0x8040u);  // FTZ (bit 15), DAZ (bit 6)
#elif defined(__aarch64__)
        uint64_t fpcr;
        __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
        saved_ = fpcr;
        fpcr |= uint64_t{1} << 24;  // FZ: inputs and results
        __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
#endif
    }
    ~FlushDenormals() {
        if (!on_) return;
#if defined(__x86_64__) || defined(__i386__)
        _mm_setcsr(static_cast<unsigned>(saved_));
#elif defined(__aarch64__)
        __asm__ __volatile__("msr fpcr, %0" : : "r"(saved_));
#endif
    }
    FlushDenormals(const FlushDenormals &) = delete;
    FlushDenormals &operator=(const FlushDenormals &) = delete;

private:
    bool on_;
    uint64_t saved_ = 0;
};

}  // namespace espcn::fast

/* Everything the unwinder needs to know about amd64. arm64 gets its own
 * file and an entry in rt_arch_for. */
#include <elf.h>

#include "rt/unwind.h"

/* Linux x86-64 ucontext_t: uc_flags, uc_link, uc_stack (24 bytes), then
 * uc_mcontext, whose general registers are r8..r15, rdi, rsi, rbp, rbx, rdx,
 * rax, rcx, rsp, rip (the kernel ABI, also runtime.sigcontext). */
#define UC_MCONTEXT 40
#define MC_RSP (UC_MCONTEXT + 15 * 8)
#define MC_RIP (UC_MCONTEXT + 16 * 8)

static bool amd64_sigctxt(struct ga_mem *mem, uint64_t ctx, uint64_t *pc, uint64_t *sp, uint64_t *lr)
{
	*lr = 0;
	return ga_mem_u64(mem, ctx + MC_RIP, pc) && ga_mem_u64(mem, ctx + MC_RSP, sp);
}

/* The kernel's rt_sigframe starts with the return address it fakes for the
 * handler (pretcode), then the ucontext. runtime.sigtramp's fp is the word
 * just above that return address. */
static uint64_t amd64_sigtramp_ctx(uint64_t fp)
{
	return fp;
}

static const struct rt_arch amd64 = {
	.name = "amd64",
	.ptrsize = 8,
	.min_frame_size = 0,
	.uses_lr = false,
	.reg_pc = 16, /* rip in user_regs_struct */
	.reg_sp = 19, /* rsp */
	.reg_lr = -1,
	.sigctxt = amd64_sigctxt,
	.sigtramp_ctx = amd64_sigtramp_ctx,
};

const struct rt_arch *rt_arch_for(uint16_t machine)
{
	if (machine == EM_X86_64)
		return &amd64;
	return NULL;
}

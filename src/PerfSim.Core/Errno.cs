using System.Globalization;

namespace PerfSim.Core;

/// <summary>The kernel's error codes that simulated paths return, negated as the kernel returns
/// them (include/uapi/asm-generic/errno-base.h, errno.h). Every path uses these, never a literal.</summary>
public static class Errno
{
    public const int Ok = 0;

    /// <summary>Operation not permitted (a second write() to a zapped per-folio folio).</summary>
    public const int EPERM = -1;

    /// <summary>Out of memory (a split's page-table allocation failed).</summary>
    public const int ENOMEM = -12;

    /// <summary>Bad address (a range beyond the direct map, a GUP of unmapped memory).</summary>
    public const int EFAULT = -14;

    /// <summary>Busy (<c>secretmem_migrate_folio</c>).</summary>
    public const int EBUSY = -16;

    public const int EEXIST = -17;

    public const int EINVAL = -22;

    /// <summary>Too many open files in the system (no mapping id left).</summary>
    public const int ENFILE = -23;

    public const int ENOSYS = -38;

    /// <summary>Operation not supported (a population path the file does not allow).</summary>
    public const int EOPNOTSUPP = -95;

    /// <summary>The symbolic name of <paramref name="errno"/> (<c>-ENOMEM</c>), or its number when unknown.</summary>
    public static string Name(int errno) => errno switch
    {
        Ok => "0",
        EPERM => "-EPERM",
        ENOMEM => "-ENOMEM",
        EFAULT => "-EFAULT",
        EBUSY => "-EBUSY",
        EEXIST => "-EEXIST",
        EINVAL => "-EINVAL",
        ENFILE => "-ENFILE",
        ENOSYS => "-ENOSYS",
        EOPNOTSUPP => "-EOPNOTSUPP",
        _ => errno.ToString(CultureInfo.InvariantCulture),
    };
}

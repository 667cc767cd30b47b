namespace PerfSim.Core.Tests.PageTables;

public class ErrnoTests
{
    [Theory]
    [InlineData(Errno.EPERM, -1, "-EPERM")]
    [InlineData(Errno.ENOMEM, -12, "-ENOMEM")]
    [InlineData(Errno.EFAULT, -14, "-EFAULT")]
    [InlineData(Errno.EBUSY, -16, "-EBUSY")]
    [InlineData(Errno.EEXIST, -17, "-EEXIST")]
    [InlineData(Errno.EINVAL, -22, "-EINVAL")]
    [InlineData(Errno.ENFILE, -23, "-ENFILE")]
    [InlineData(Errno.ENOSYS, -38, "-ENOSYS")]
    [InlineData(Errno.EOPNOTSUPP, -95, "-EOPNOTSUPP")]
    public void Codes_are_the_kernels_negated_with_their_names(int errno, int kernel, string name) =>
        Assert.Equal((kernel, name), (errno, Errno.Name(errno)));

    [Fact]
    public void An_unknown_code_is_printed_as_its_number() => Assert.Equal("-7", Errno.Name(-7));
}

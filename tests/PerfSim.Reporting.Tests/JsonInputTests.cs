using PerfSim.Reporting.Input;

namespace PerfSim.Reporting.Tests;

public sealed class JsonInputTests
{
    private static InputException Fails(string json, Action<InputElement> read)
    {
        return Assert.Throws<InputException>(() =>
        {
            using InputDocument document = JsonInput.Parse(json, "cfg.json");
            read(document.Root);
        });
    }

    [Fact]
    public void Out_of_range_integer_names_file_path_value_and_accepted_range()
    {
        InputException ex = Fails(
            """{ "engine": { "cpus": 4096 } }""",
            root => root.AsObject("engine").Required("engine").AsObject("cpus").GetInt32("cpus", 1, 1024));

        Assert.Equal("cfg.json: $.engine.cpus: found 4096, expected an integer from 1 to 1024", ex.Message);
    }

    [Fact]
    public void Wrong_type_reports_what_was_found()
    {
        InputException ex = Fails("""{ "faults": "many" }""", root => root.AsObject("faults").GetInt64("faults", min: 0));

        Assert.Equal("cfg.json: $.faults: found \"many\" (a string), expected a non-negative integer", ex.Message);
    }

    [Fact]
    public void Fractional_number_is_not_an_integer()
    {
        InputException ex = Fails("""{ "n": 1.5 }""", root => root.AsObject("n").GetInt64("n"));

        Assert.Equal("cfg.json: $.n: found 1.5, expected an integer", ex.Message);
    }

    [Fact]
    public void Unknown_key_is_rejected_with_the_allowed_list()
    {
        InputException ex = Fails("""{ "seed": 1, "sede": 2 }""", root => root.AsObject("seed", "cpus"));

        Assert.Equal("cfg.json: $.sede: found an unknown key \"sede\", expected one of: seed, cpus", ex.Message);
    }

    [Fact]
    public void Missing_required_field_says_what_was_expected()
    {
        InputException ex = Fails("""{ "runs": [ {} ] }""", root =>
            root.AsObject("runs").Required("runs").AsArray()[0].AsObject("ordinal").GetInt32("ordinal", min: 0));

        Assert.Equal(
            "cfg.json: $.runs[0].ordinal: found nothing (the field is missing), expected an integer from 0 to 2147483647",
            ex.Message);
    }

    [Fact]
    public void Truncated_json_reports_line_and_byte_on_one_line()
    {
        InputException ex = Assert.Throws<InputException>(() => JsonInput.Parse("{\n  \"a\": [1,\n  2", "cut.json"));

        Assert.StartsWith("cut.json: invalid or truncated JSON at line 3, byte ", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.DoesNotContain("LineNumber", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_in_a_key_is_an_input_error_not_an_invalid_operation()
    {
        // Found by the fuzz campaign: the reader accepted the document and the key's getter threw.
        string path = Path.Combine(Path.GetTempPath(), $"perfsim-utf8-{Guid.NewGuid():N}.json");
        File.WriteAllBytes(path, [.. "{\"va"u8, 0xE5, .. "ry\": 1}"u8]);
        try
        {
            InputException ex = Assert.Throws<InputException>(() => JsonInput.LoadFile(path));
            Assert.Equal($"{path}: not UTF-8 text (JSON is UTF-8)", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Duplicate_keys_are_rejected()
    {
        InputException ex = Assert.Throws<InputException>(() => JsonInput.Parse("""{ "a": 1, "a": 2 }""", "dup.json"));

        Assert.StartsWith("dup.json: a key is given twice at line 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_is_an_input_error_naming_the_file()
    {
        string path = Path.Combine(Path.GetTempPath(), "perfsim-" + Guid.NewGuid().ToString("N"), "report.json");

        InputException ex = Assert.Throws<InputException>(() => JsonInput.LoadFile(path));

        Assert.Equal($"{path}: file not found", ex.Message);
    }

    [Fact]
    public void Non_finite_or_out_of_range_doubles_are_rejected()
    {
        InputException ex = Fails("""{ "ratio": -0.5 }""", root => root.AsObject("ratio").GetDouble("ratio", min: 0));

        Assert.Equal("cfg.json: $.ratio: found -0.5, expected a finite non-negative number", ex.Message);
    }

    [Fact]
    public void Keys_that_are_not_identifiers_are_quoted_in_the_path()
    {
        InputException ex = Fails("""{ "arch=x86,cpus=4": true }""", root =>
            root.AsOpenObject().Properties().Single().Value.AsInt64());

        Assert.Equal("cfg.json: $['arch=x86,cpus=4']: found true, expected an integer", ex.Message);
    }

    [Fact]
    public void Messages_stay_on_one_line_even_for_multi_line_values()
    {
        InputException ex = Fails("""{ "s": "a\nb" }""", root => root.AsObject("s").GetInt64("s"));

        Assert.DoesNotContain('\n', ex.Message);
        Assert.Contains("$.s", ex.Message, StringComparison.Ordinal);
    }
}

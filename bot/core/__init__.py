"""The pure core: values, rules, schemes, parsing and wording. No I/O."""

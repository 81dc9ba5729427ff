from rag.wording import counted


def test_one_is_singular_and_thousands_are_separated():
    assert counted(1, "article") == "1 article"
    assert counted(0, "chunk") == "0 chunks"
    assert counted(12674, "chunk") == "12,674 chunks"
    assert counted(2, "copy", "copies") == "2 copies"

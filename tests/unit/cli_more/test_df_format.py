

def test_image_sizes_use_docker_precisions() -> None:
    from sampan.cli.images import ImageRow

    row = ImageRow({"Size": 1_982_345, "SharedSize": 1_234_567}, "r", "t", "", trunc=True)
    assert row.Size() == "1.98MB"  # .Size: 3 digits
    assert row.SharedSize() == "1.235MB" and row.UniqueSize() == "747.8kB"  # go-units HumanSize: 4
    assert ImageRow({"Size": 5, "SharedSize": -1}, "r", "t", "", trunc=True).UniqueSize() == "N/A"

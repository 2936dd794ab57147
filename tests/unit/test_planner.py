import pytest

from sgw_drift.planner import RefreshPlan, plan_one_call, plan_refresh


def covered(plans, folder: str) -> bool:
    return any(plan.covers(folder) for plan in plans)


def test_no_folders_no_plan():
    assert plan_refresh([]) == []


def test_few_folders_one_exact_call():
    plans = plan_refresh(["/a", "/b/c", "/"])

    assert len(plans) == 1
    assert plans[0].recursive is False
    assert plans[0].folders == ("/", "/a", "/b/c")


def test_folder_forms_are_normalized_once():
    plans = plan_refresh(["a/b/", "/a/b", "a/b"])
    assert plans[0].folders == ("/a/b",)


def test_up_to_hundred_folders_two_exact_calls():
    plans = plan_refresh([f"/d{index:03d}" for index in range(100)])

    assert [len(plan.folders) for plan in plans] == [50, 50]
    assert not any(plan.recursive for plan in plans)


@pytest.mark.parametrize("count", [101, 120, 200, 1_000, 3_000])
def test_many_folders_fit_two_calls_and_cover_all(count):
    folders = [f"/team{index % 9}/project{index % 37}/run{index}" for index in range(count)]

    plans = plan_refresh(folders)

    assert 1 <= len(plans) <= 2
    assert all(1 <= len(plan.folders) <= 50 for plan in plans)
    assert all(len(entry) <= 1024 for plan in plans for entry in plan.folders)
    assert all(covered(plans, folder) for folder in folders)


def test_siblings_collapse_to_their_parent():
    plans = plan_refresh([f"/projects/p{index:03d}" for index in range(200)])
    assert [(plan.folders, plan.recursive) for plan in plans] == [(("/projects",), True)]


def test_collapse_keeps_unrelated_folders_exact():
    folders = [f"/big/d{index}" for index in range(150)] + ["/lonely/deep/folder"]

    plans = plan_refresh(folders)

    exact = [plan for plan in plans if not plan.recursive]
    assert exact and "/lonely/deep/folder" in exact[0].folders
    assert all(covered(plans, folder) for folder in folders)


def test_max_calls_one_still_covers_everything():
    folders = [f"/x{index}/y" for index in range(80)]

    plans = plan_refresh(folders, max_calls=1)

    assert len(plans) == 1
    assert all(covered(plans, folder) for folder in folders)


def test_folder_longer_than_1024_characters_uses_an_ancestor():
    deep = "/" + "/".join(["segment" + str(index) for index in range(200)])
    assert len(deep) > 1024

    plans = plan_refresh([deep, "/other"])

    assert all(len(entry) <= 1024 for plan in plans for entry in plan.folders)
    assert covered(plans, deep)
    assert any(plan.recursive for plan in plans)


def tree_costs(tree: dict[str, int]):
    """Object counts per folder, and the counters plan_one_call takes."""

    def direct(folder: str) -> int:
        return tree.get(folder, 0)

    def subtree(folder: str, limit: float) -> int:
        return sum(
            count
            for path, count in tree.items()
            if folder == "/" or path == folder or path.startswith(folder + "/")
        )

    return direct, subtree


PROJECT_FOLDERS = [
    f"/projects/p{index:02d}/{name}"
    for index in range(40)
    for name in ("build", "data", "docs", "src", "tests")
]


def project_tree(extra_per_project: int = 0) -> dict[str, int]:
    tree = {"/archive": 2_400}
    for index in range(40):
        tree[f"/projects/p{index:02d}"] = 1
        for name in ("build", "data", "docs", "src", "tests"):
            tree[f"/projects/p{index:02d}/{name}"] = 10
        if extra_per_project:
            tree[f"/projects/p{index:02d}/untouched"] = extra_per_project
    return tree


def test_one_call_covers_touched_subtrees():
    direct, subtree = tree_costs(project_tree())

    plan = plan_one_call(PROJECT_FOLDERS, direct_objects=direct, subtree_objects=subtree)

    assert plan is not None and plan.recursive
    assert len(plan.folders) <= 50
    assert all(plan.covers(folder) for folder in PROJECT_FOLDERS)
    rescanned = sum(subtree(entry, float("inf")) for entry in plan.folders)
    assert rescanned <= 1.1 * sum(direct(folder) for folder in PROJECT_FOLDERS)


def test_one_call_rejected_for_untouched_data():
    direct, subtree = tree_costs(project_tree(extra_per_project=1_000))
    assert plan_one_call(PROJECT_FOLDERS, direct_objects=direct, subtree_objects=subtree) is None


def test_one_call_keeps_few_folders_exact():
    direct, subtree = tree_costs(project_tree())

    plan = plan_one_call(PROJECT_FOLDERS[:7], direct_objects=direct, subtree_objects=subtree)

    assert plan == RefreshPlan(tuple(sorted(PROJECT_FOLDERS[:7])), recursive=False)

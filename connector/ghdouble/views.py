"""GitHub's JSON for the double's repositories, issues, pull requests, labels and users, with API
URLs pointing at the double; the state itself lives in :mod:`connector.ghdouble.state`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .state import HTML, Comment, Issue, Label, Repo, State, _sha, head_sha, node_id

__all__ = ["Views"]


class Views:
    """Renders state as GitHub's JSON, with API URLs pointing at the double (``api``)."""

    def __init__(self, state: State, api: str) -> None:
        self.state, self.api = state, api.rstrip("/")

    def user(self, login: str) -> dict[str, Any]:
        uid, u = self.state.user_id(login), f"{self.api}/users/{login}"
        return {
            "login": login, "id": uid, "node_id": node_id("User", uid),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4", "gravatar_id": "",
            "url": u, "html_url": f"{HTML}/{login}", "followers_url": f"{u}/followers",
            "following_url": f"{u}/following{{/other_user}}", "gists_url": f"{u}/gists{{/gist_id}}",
            "starred_url": f"{u}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{u}/subscriptions",
            "organizations_url": f"{u}/orgs", "repos_url": f"{u}/repos",
            "events_url": f"{u}/events{{/privacy}}", "received_events_url": f"{u}/received_events",
            "type": "User", "user_view_type": "public", "site_admin": False,
        }

    def repo(self, repo: Repo, *, full: bool = False, owner: str | None = None) -> dict[str, Any]:
        owner = owner or repo.owner
        fork = owner.lower() != repo.owner.lower()
        rid = repo.id + (self.state.user_id(owner) * 1000 if fork else 0)
        full_name, u = f"{owner}/{repo.name}", f"{self.api}/repos/{owner}/{repo.name}"
        html = f"{HTML}/{full_name}"
        open_count = sum(1 for i in repo.issues.values() if i.state == "open")
        data: dict[str, Any] = {
            "id": rid, "node_id": node_id("Repository", rid), "name": repo.name,
            "full_name": full_name, "private": repo.private, "owner": self.user(owner),
            "html_url": html, "description": repo.description, "fork": fork, "url": u,
            "created_at": repo.created_at, "updated_at": repo.created_at, "pushed_at": repo.created_at,
            "git_url": f"git://github.com/{full_name}.git", "ssh_url": f"git@github.com:{full_name}.git",
            "clone_url": f"{html}.git", "svn_url": html, "homepage": None, "size": 108,
            "stargazers_count": 0, "watchers_count": 0, "language": "Python", "has_issues": True,
            "has_projects": True, "has_downloads": True, "has_wiki": True, "has_pages": False,
            "has_discussions": False, "forks_count": 0, "mirror_url": None, "archived": False,
            "disabled": False, "open_issues_count": open_count, "license": None,
            "allow_forking": True, "is_template": False, "web_commit_signoff_required": False,
            "topics": [], "visibility": "private" if repo.private else "public", "forks": 0,
            "open_issues": open_count, "watchers": 0, "default_branch": repo.default_branch,
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
        }
        for key, tail in (("forks", "/forks"), ("keys", "/keys{/key_id}"),
                          ("collaborators", "/collaborators{/collaborator}"), ("teams", "/teams"),
                          ("hooks", "/hooks"), ("issue_events", "/issues/events{/number}"),
                          ("events", "/events"), ("assignees", "/assignees{/user}"),
                          ("branches", "/branches{/branch}"), ("tags", "/tags"),
                          ("blobs", "/git/blobs{/sha}"), ("git_tags", "/git/tags{/sha}"),
                          ("git_refs", "/git/refs{/sha}"), ("trees", "/git/trees{/sha}"),
                          ("statuses", "/statuses/{sha}"), ("languages", "/languages"),
                          ("stargazers", "/stargazers"), ("contributors", "/contributors"),
                          ("subscribers", "/subscribers"), ("subscription", "/subscription"),
                          ("commits", "/commits{/sha}"), ("git_commits", "/git/commits{/sha}"),
                          ("comments", "/comments{/number}"), ("issue_comment", "/issues/comments{/number}"),
                          ("contents", "/contents/{+path}"), ("compare", "/compare/{base}...{head}"),
                          ("merges", "/merges"), ("archive", "/{archive_format}{/ref}"),
                          ("downloads", "/downloads"), ("issues", "/issues{/number}"),
                          ("pulls", "/pulls{/number}"), ("milestones", "/milestones{/number}"),
                          ("notifications", "/notifications{?since,all,participating}"),
                          ("labels", "/labels{/name}"), ("releases", "/releases{/id}"),
                          ("deployments", "/deployments")):
            data[f"{key}_url"] = u + tail
        if full:
            data.update({"network_count": 0, "subscribers_count": 0, "temp_clone_token": "",
                         "allow_squash_merge": True, "allow_merge_commit": True,
                         "allow_rebase_merge": True, "allow_auto_merge": False,
                         "delete_branch_on_merge": False, "allow_update_branch": False})
        return data

    def label(self, repo: Repo, label: Label) -> dict[str, Any]:
        return {"id": label.id, "node_id": node_id("Label", label.id),
                "url": f"{self.api}/repos/{repo.full_name}/labels/{quote(label.name)}",
                "name": label.name, "color": label.color, "default": label.default,
                "description": label.description}

    def _labels(self, repo: Repo, issue: Issue) -> list[dict[str, Any]]:
        return [self.label(repo, label) for label in self.state.labels_of(repo, issue)]

    def pull(self, repo: Repo, issue: Issue, *, full: bool = False) -> dict[str, Any]:
        pr = issue.pull
        assert pr is not None
        n, api = issue.number, f"{self.api}/repos/{repo.full_name}"
        sha, html, facts = head_sha(repo, issue), f"{HTML}/{repo.full_name}/pull/{n}", pr.facts
        merge_sha = _sha(repo.full_name, n, "merge") if pr.merged_at else None

        def side(owner: str, ref: str, sha: str) -> dict[str, Any]:
            return {"label": f"{owner}:{ref}", "ref": ref, "sha": sha, "user": self.user(owner),
                    "repo": self.repo(repo, owner=owner)}

        data: dict[str, Any] = {
            "url": f"{api}/pulls/{n}", "id": issue.id, "node_id": node_id("PullRequest", issue.id),
            "html_url": html, "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
            "issue_url": f"{api}/issues/{n}", "number": n, "state": issue.state, "locked": False,
            "title": issue.title, "user": self.user(issue.user), "body": issue.body,
            "created_at": issue.created_at, "updated_at": issue.updated_at,
            "closed_at": issue.closed_at, "merged_at": pr.merged_at, "merge_commit_sha": merge_sha,
            "assignee": None, "assignees": [],
            "requested_reviewers": [self.user(login) for login in facts.requested_reviewers],
            "requested_teams": [self.team(repo.owner, slug) for slug in facts.requested_teams],
            "labels": self._labels(repo, issue), "milestone": None, "draft": pr.draft,
            "commits_url": f"{api}/pulls/{n}/commits",
            "review_comments_url": f"{api}/pulls/{n}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{n}/comments", "statuses_url": f"{api}/statuses/{sha}",
            "head": side(pr.head_owner, pr.head_ref, sha),
            "base": side(repo.owner, pr.base_ref, _sha(repo.full_name, pr.base_ref)),
            "_links": {k: {"href": v} for k, v in (
                ("self", f"{api}/pulls/{n}"), ("html", html), ("issue", f"{api}/issues/{n}"),
                ("comments", f"{api}/issues/{n}/comments"),
                ("review_comments", f"{api}/pulls/{n}/comments"),
                ("review_comment", f"{api}/pulls/comments{{/number}}"),
                ("commits", f"{api}/pulls/{n}/commits"), ("statuses", f"{api}/statuses/{sha}"))},
            "author_association": self.association(repo, issue),
            "auto_merge": None, "active_lock_reason": None,
        }
        if full:
            is_open = issue.state == "open"
            mergeable = {"MERGEABLE": True, "CONFLICTING": False}.get(facts.mergeable_now(is_open))
            data.update({
                "merged": pr.merged_at is not None, "mergeable": mergeable, "rebaseable": mergeable,
                "mergeable_state": facts.merge_state_status(is_open=is_open, draft=pr.draft).lower(),
                "merged_by": self.user(repo.owner) if pr.merged_at else None,
                "comments": len(issue.comments), "review_comments": 0,
                "maintainer_can_modify": False, "commits": 1, "additions": facts.additions,
                "deletions": facts.deletions, "changed_files": len(facts.files),
            })
        return data

    def issue(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        n, api = issue.number, f"{self.api}/repos/{repo.full_name}"
        kind = "pull" if issue.pull else "issues"
        data: dict[str, Any] = {
            "url": f"{api}/issues/{n}", "repository_url": api,
            "labels_url": f"{api}/issues/{n}/labels{{/name}}", "comments_url": f"{api}/issues/{n}/comments",
            "events_url": f"{api}/issues/{n}/events", "html_url": f"{HTML}/{repo.full_name}/{kind}/{n}",
            "id": issue.id, "node_id": node_id("Issue", issue.id), "number": n, "title": issue.title,
            "user": self.user(issue.user), "labels": self._labels(repo, issue), "state": issue.state,
            "locked": False, "assignee": None, "assignees": [], "milestone": None,
            "comments": len(issue.comments), "created_at": issue.created_at,
            "updated_at": issue.updated_at, "closed_at": issue.closed_at,
            "closed_by": self.user(repo.owner) if issue.closed_at else None,
            "author_association": self.association(repo, issue), "active_lock_reason": None,
            "body": issue.body, "timeline_url": f"{api}/issues/{n}/timeline",
            "performed_via_github_app": None,
            "state_reason": "completed" if issue.closed_at and not issue.pull else None,
            "reactions": self._reactions(f"{api}/issues/{n}/reactions"),
        }
        if issue.pull:
            html = f"{HTML}/{repo.full_name}/pull/{n}"
            data["draft"] = issue.pull.draft
            data["pull_request"] = {"url": f"{api}/pulls/{n}", "html_url": html,
                                    "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
                                    "merged_at": issue.pull.merged_at}
        return data

    def comment(self, repo: Repo, issue: Issue, comment: Comment) -> dict[str, Any]:
        api, kind = f"{self.api}/repos/{repo.full_name}", "pull" if issue.pull else "issues"
        return {
            "id": comment.id, "node_id": node_id("IssueComment", comment.id),
            "url": f"{api}/issues/comments/{comment.id}",
            "html_url": f"{HTML}/{repo.full_name}/{kind}/{issue.number}#issuecomment-{comment.id}",
            "body": comment.body, "user": self.user(comment.user),
            "created_at": comment.created_at, "updated_at": comment.created_at,
            "issue_url": f"{api}/issues/{issue.number}",
            "author_association": self._association(repo, comment.user),
            "performed_via_github_app": None,
            "reactions": self._reactions(f"{api}/issues/comments/{comment.id}/reactions"),
        }

    def team(self, org: str, slug: str) -> dict[str, Any]:
        """A team of ``org`` as GitHub's ``team-simple`` (the double has no team store: named by slug)."""
        tid = int(_sha("team", org.lower(), slug.lower())[:7], 16)
        return {"id": tid, "node_id": node_id("Team", tid), "url": f"{self.api}/teams/{tid}",
                "members_url": f"{self.api}/teams/{tid}/members{{/member}}", "name": slug, "slug": slug,
                "description": None, "privacy": "closed", "notification_setting": "notifications_enabled",
                "permission": "pull", "repositories_url": f"{self.api}/teams/{tid}/repos",
                "html_url": f"{HTML}/orgs/{org}/teams/{slug}", "type": "organization",
                "organization_id": self.state.user_id(org)}

    @classmethod
    def association(cls, repo: Repo, issue: Issue) -> str:
        """The issue's author's association: as a test set it on a pull request, else derived."""
        chosen = issue.pull.facts.author_association if issue.pull else None
        return chosen or cls._association(repo, issue.user)

    @staticmethod
    def _association(repo: Repo, login: str) -> str:
        return "OWNER" if login.lower() == repo.owner.lower() else "CONTRIBUTOR"

    @staticmethod
    def _reactions(url: str) -> dict[str, Any]:
        counts = dict.fromkeys(("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0)
        return {"url": url, "total_count": 0, **counts}

from django.contrib.auth.decorators import login_required


@login_required
def team_detail(request, slug):
    raise NotImplementedError


@login_required
def project_detail(request, slug):
    raise NotImplementedError

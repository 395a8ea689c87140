/* Starts GraphiQL on this page: the endpoint is the page's data-endpoint (same origin, so
   the browser sends the console's session cookie; tokens go in GraphiQL's Headers tab). */
(function () {
  "use strict";
  var body = document.body;
  var fetcher = window.GraphiQL.createFetcher({ url: body.dataset.endpoint });
  var root = window.ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    window.React.createElement(window.GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
    })
  );
})();
